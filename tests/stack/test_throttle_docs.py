"""The route throttle the docs promise is the one the stack configures."""

from __future__ import annotations

import re
from typing import Any

from stack_support import ROOT


def route_limits(resources: dict[str, Any]) -> tuple[tuple[int, int], dict[str, tuple[int, int]]]:
    """(rate, burst) for every route without its own settings, and for each route that has."""
    api = resources["HttpApi"]["Properties"]
    default = api["DefaultRouteSettings"]
    routes = {
        route: (int(limits["ThrottlingRateLimit"]), int(limits["ThrottlingBurstLimit"]))
        for route, limits in api["RouteSettings"].items()
    }
    return (int(default["ThrottlingRateLimit"]), int(default["ThrottlingBurstLimit"])), routes


def test_operations_doc_states_each_routes_throttle_as_the_stack_sets_it(
    resources: dict[str, Any],
) -> None:
    # GIVEN the throttle of every route in template.yaml
    (rate, burst), routes = route_limits(resources)
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    # THEN docs/operations.md has a row for each of them with the same rate and burst
    for route, (route_rate, route_burst) in routes.items():
        row = rf"\| `{re.escape(route)}` \| {route_rate} requests?/s \| {route_burst} \|"
        assert re.search(row, operations), f"docs/operations.md: no row {route} {route_rate}/s"
    assert re.search(rf"\| every other route[^|]*\| {rate} requests/s \| {burst} \|", operations)


def test_the_readme_states_each_routes_throttle_as_the_stack_sets_it(
    resources: dict[str, Any],
) -> None:
    (rate, burst), routes = route_limits(resources)
    readme = " ".join((ROOT / "docs" / "deploy.md").read_text(encoding="utf-8").split())
    for route, (route_rate, route_burst) in routes.items():
        path = route.split(" ", 1)[1]
        said = rf"`{re.escape(path)}` {route_rate}( request)?/s \(burst {route_burst}"
        assert re.search(said, readme), f"docs/deploy.md: {path} should read {route_rate}/s"
    assert f"anything else {rate}/s (burst {burst})" in readme
