"""Every page names, in its head, each module its script imports (``<link rel="modulepreload">``).

A page's script imports modules, which import more: without the list, the browser finds each
level only after the one before has arrived and been read, a round trip per level. With it, it
asks for all of them at once, while the page's styles load. When one browser opens many tabs on a
busy machine, those round trips are what delay a tab's picture (``bench/many_tabs.py``).

The list must stay exact: a module missing from it is found late again, and one that the page
no longer imports is downloaded for nothing. Modules loaded on demand (``import(...)``: the
provider's and the chat's) are not in it: a page loads only the one its server names.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ASSETS = Path(__file__).resolve().parents[2] / "assets"
PAGES = sorted(ASSETS.glob("*.html"))

# `import x from './a.js'`, `import { a,\n b } from '../b.js'`, `export { c } from './c.js'`,
# `import './d.js'`; never `import('./e.js')`, which loads on demand.
_STATIC_IMPORT = re.compile(
    r"^\s*(?:import|export)\b(?!\s*\()(?:[^;'\"]*?\bfrom)?\s*['\"]([^'\"]+)['\"]", re.M
)


class _HeadLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.preloads: list[str] = []
        self.entries: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "link" and found.get("rel") == "modulepreload" and found.get("href"):
            self.preloads.append(str(found["href"]))
        if tag == "script" and found.get("type") == "module" and found.get("src"):
            self.entries.append(str(found["src"]))


def _url_of(path: Path) -> str:
    return "/" + path.relative_to(ASSETS).as_posix()


def static_imports(entry: str) -> set[str]:
    """Every module ``entry`` (a site path such as ``/index.js``) imports, directly or not."""
    seen: set[str] = set()
    pending = [ASSETS / entry.lstrip("/")]
    while pending:
        module = pending.pop()
        for spec in _STATIC_IMPORT.findall(module.read_text(encoding="utf-8")):
            assert spec.startswith("."), f"{_url_of(module)} imports {spec!r}: not a file of ours"
            target = (module.parent / spec).resolve()
            assert target.is_file(), f"{_url_of(module)} imports {spec}, which does not exist"
            if _url_of(target) not in seen:
                seen.add(_url_of(target))
                pending.append(target)
    return seen


def test_the_import_reader_finds_every_form_of_static_import(tmp_path: Path) -> None:
    # (the reader is the test's own: check it on the forms the pages use, and on the one to skip)
    assert _STATIC_IMPORT.findall(
        "import { a,\n  b } from './a.js';\nimport c from \"../c.js\";\nimport './d.js';\n"
        "export { e } from './e.js';\nconst f = await import(`/js/${name}.js`);\n"
        "  import('./g.js');\n// see import below\n"
    ) == ["./a.js", "../c.js", "./d.js", "./e.js"]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_a_page_preloads_exactly_the_modules_its_script_imports(page: Path) -> None:
    links = _HeadLinks()
    links.feed(page.read_text(encoding="utf-8"))
    assert len(links.entries) == 1, f"{page.name} should have one module script"
    wanted = static_imports(links.entries[0])
    have = set(links.preloads)
    assert len(have) == len(links.preloads), f"{page.name} names a module twice"
    missing = sorted(wanted - have)
    extra = sorted(have - wanted)
    assert not missing, f"{page.name}: add " + " ".join(
        f'<link rel="modulepreload" href="{url}">' for url in missing
    )
    assert not extra, f"{page.name} preloads modules its script does not import: {extra}"


def test_the_audience_pages_script_has_imports_to_preload() -> None:
    # (so that the check above is not empty: the audience page imports modules of its own)
    assert {"/js/audience-player.js", "/js/chat/panel.js"} <= static_imports("/index.js")
