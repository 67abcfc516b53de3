"""The pages under the stack's Content-Security-Policy, which the dev server sends too: each page
loads and starts (its modules, styles, fonts and the page's WebSocket) without a violation."""

from __future__ import annotations

import json
from typing import Any

import pytest

#: Records every CSP violation the page reports (before any of its scripts runs).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push({
    directive: event.violatedDirective, blocked: event.blockedURI, source: event.sourceFile,
  });
});
"""


@pytest.mark.parametrize(
    "page_path", ["/index.html", "/host.html", "/recordings.html", "/embed.html"]
)
def test_a_page_starts_under_the_csp_without_a_violation(
    server: Any, open_page: Any, page_path: str
) -> None:
    page = open_page(init_script=RECORD_VIOLATIONS)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    response = page.goto(server.url + page_path)

    assert response is not None and response.status == 200
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    # the page's scripts ran: its module set the page up (its main element is there)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.querySelectorAll('script[type=module]').length") >= 1
    violations = page.evaluate("window.__cspViolations")
    assert violations == [], json.dumps(violations)
    assert not [line for line in console if "Content Security Policy" in line], console
