"""The project files a Lambda function can run, read from the source itself.

From the Lambda entry points (the adapter every HTTP function runs, each ``functions/*.py``, and
the module handlers the template names) the walk follows every ``livescreen`` import, lazy ones
inside functions included (they run on Lambda too), except those under ``if TYPE_CHECKING:``,
and every ``"livescreen.module:factory"`` a factory table names, except the dev server's own
entries (``local``, and the stream store's ``sqlite``): ``PerSettings`` refuses them on Lambda
before importing anything. A package's
``__init__.py`` comes with any module inside it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

_FACTORY = re.compile(r"^(livescreen(?:\.\w+)+):\w+$")
#: factory-table keys ``PerSettings`` refuses on Lambda (their ``dev_server_only``)
DEV_SERVER_ONLY_NAMES = frozenset({"local", "sqlite"})


def module_path(root: Path, module: str) -> Path | None:
    base = root / Path(*module.split("."))
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(child) for stmt in node.body for child in ast.walk(stmt)}
    return skipped


def _imported(tree: ast.AST, package: str) -> set[str]:
    skipped = _type_checking_nodes(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in DEV_SERVER_ONLY_NAMES:
                    continue
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    match = _FACTORY.match(value.value)
                    if match:
                        found.add(match.group(1))
    return {name for name in found if name.split(".")[0] == "livescreen"}


def lambda_files(root: Path, entry_modules: list[str], entry_files: list[Path]) -> set[Path]:
    """Every project file reachable from the entry points, relative to ``root``."""
    found: set[Path] = set()
    pending: list[tuple[Path, str]] = [(path, "functions") for path in entry_files]
    for module in entry_modules:
        path = module_path(root, module)
        assert path is not None, f"no such module: {module}"
        pending.append((path, module))
    while pending:
        path, module = pending.pop()
        relative = path.relative_to(root)
        if relative in found:
            continue
        found.add(relative)
        parts = module.split(".")
        for depth in range(1, len(parts)):  # the packages it lives in
            package_init = module_path(root, ".".join(parts[:depth]))
            if package_init is not None and package_init.name == "__init__.py":
                pending.append((package_init, ".".join(parts[:depth])))
        package = module if path.name == "__init__.py" else ".".join(parts[:-1])
        for name in _imported(ast.parse(path.read_text(encoding="utf-8")), package):
            target = module_path(root, name)
            if target is not None:
                pending.append((target, name))
    return found
