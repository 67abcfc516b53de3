"""The stack lets the sites in its ``EmbedOrigins`` parameter frame ``/embed.html`` (CSP
``frame-ancestors``), none by default, and keeps every other page unframeable."""

from __future__ import annotations

import re
from typing import Any

import pytest

from livescreen.security import embed_origins

pytestmark = pytest.mark.stack

#: The policies of the pages that no site may frame.
UNFRAMEABLE = ("AudiencePageHeaders", "HostPageHeaders", "RecordingsPageHeaders")


def evaluate(value: Any, parameters: dict[str, str], template: dict[str, Any]) -> Any:
    """``value`` with the intrinsic functions the CSP uses worked out, as CloudFormation would
    for a stack with these ``parameters`` (``AWS::Region`` left as written)."""
    if isinstance(value, list):
        return [evaluate(item, parameters, template) for item in value]
    if not isinstance(value, dict) or len(value) != 1:
        return value
    ((name, argument),) = value.items()
    if name == "Ref" and argument in parameters:
        return parameters[argument]
    if name == "Fn::If":
        condition, when_true, when_false = argument
        holds = evaluate(template["Conditions"][condition], parameters, template)
        return evaluate(when_true if holds else when_false, parameters, template)
    if name == "Condition":
        return evaluate(template["Conditions"][argument], parameters, template)
    if name == "Fn::Not":
        return not evaluate(argument[0], parameters, template)
    if name == "Fn::Equals":
        left, right = evaluate(argument, parameters, template)
        return left == right
    if name == "Fn::Split":
        separator, text = evaluate(argument, parameters, template)
        return text.split(separator)
    if name == "Fn::Join":
        separator, items = evaluate(argument, parameters, template)
        return separator.join(items)
    if name == "Fn::Sub":
        text, variables = argument if isinstance(argument, list) else (argument, {})
        for variable, expression in variables.items():
            text = text.replace("${" + variable + "}", evaluate(expression, parameters, template))
        return text
    return value


def csp(template: dict[str, Any], policy: str, **parameters: str) -> dict[str, list[str]]:
    """The policy's CSP, directive -> sources, in a stack deployed with ``parameters``."""
    values = {name: p.get("Default", "") for name, p in template["Parameters"].items()}
    config = template["Resources"][policy]["Properties"]["ResponseHeadersPolicyConfig"]
    written = config["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    text = evaluate(written, {**values, **parameters}, template)
    assert isinstance(text, str)
    assert "${" not in text.replace("${AWS::Region}", ""), text
    return {words[0]: words[1:] for part in text.split(";") if (words := part.split())}


def behaviours(template: dict[str, Any]) -> dict[str, Any]:
    distribution = template["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    return {
        b["PathPattern"]: b["ResponseHeadersPolicyId"]
        for b in distribution["CacheBehaviors"]
        if isinstance(b, dict) and "PathPattern" in b
    }


def test_no_site_may_frame_the_embed_page_by_default(template: dict[str, Any]) -> None:
    # GIVEN a stack deployed without EmbedOrigins
    parameter = template["Parameters"]["EmbedOrigins"]
    assert parameter["Type"] == "String"
    assert parameter["Default"] == ""

    # THEN /embed.html has its own policy, whose frame-ancestors is 'none'
    assert behaviours(template)["/embed.html"] == {"Ref": "EmbedPageHeaders"}
    assert csp(template, "EmbedPageHeaders")["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize(
    ("value", "ancestors"),
    [
        ("https://blog.example.com", ["https://blog.example.com"]),
        (
            "https://blog.example.com, http://127.0.0.1:8080",
            ["https://blog.example.com", "http://127.0.0.1:8080"],
        ),
        ("https://a.example https://b.example", ["https://a.example", "https://b.example"]),
    ],
)
def test_the_sites_in_embed_origins_may_frame_the_embed_page(
    template: dict[str, Any], value: str, ancestors: list[str]
) -> None:
    # WHEN the stack is deployed with EmbedOrigins listing sites (commas or spaces)
    directives = csp(template, "EmbedPageHeaders", EmbedOrigins=value)

    # THEN exactly those sites may frame /embed.html, as EMBED_ORIGINS would on the dev server
    assert directives["frame-ancestors"] == ancestors
    assert tuple(ancestors) == embed_origins.parse_origins(value)
    # and the rest of the page's policy is the audience page's: the same players may run
    audience = csp(template, "AudiencePageHeaders", EmbedOrigins=value)
    assert {k: v for k, v in directives.items() if k != "frame-ancestors"} == {
        k: v for k, v in audience.items() if k != "frame-ancestors"
    }


def test_the_embed_page_sends_no_x_frame_options_that_would_refuse_every_frame(
    template: dict[str, Any],
) -> None:
    config = template["Resources"]["EmbedPageHeaders"]["Properties"]
    security = config["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert "FrameOptions" not in security
    assert security["ContentSecurityPolicy"]["Override"] is True


def test_every_other_page_stays_unframeable_whatever_embed_origins_says(
    template: dict[str, Any],
) -> None:
    # GIVEN a stack that lets a site embed the player
    allowed = "https://blog.example.com"

    # THEN every other policy still says frame-ancestors 'none' and X-Frame-Options DENY
    for policy in UNFRAMEABLE:
        assert csp(template, policy, EmbedOrigins=allowed)["frame-ancestors"] == ["'none'"]
        config = template["Resources"][policy]["Properties"]["ResponseHeadersPolicyConfig"]
        assert config["SecurityHeadersConfig"]["FrameOptions"]["FrameOption"] == "DENY"
    # and only /embed.html is served with the embed policy (never the default behaviour)
    distribution = template["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    assert distribution["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {
        "Ref": "AudiencePageHeaders"
    }
    uses = [
        path for path, ref in behaviours(template).items() if ref == {"Ref": "EmbedPageHeaders"}
    ]
    assert uses == ["/embed.html"]


def test_the_parameter_accepts_what_the_dev_server_accepts(template: dict[str, Any]) -> None:
    pattern = template["Parameters"]["EmbedOrigins"]["AllowedPattern"]
    assert pattern == embed_origins.PARAMETER_PATTERN
    accepts = re.compile(pattern, re.ASCII)
    good = [
        "",
        "https://example.com",
        "HTTPS://Example.COM:8443",
        "http://127.0.0.1:8080,https://a.example",
        "https://a.example  ,  https://b.example,",
        "http://[::1]:3000",
    ]
    bad = [
        "https://example.com/",
        "https://example.com/page",
        "example.com",
        "*",
        "https://*.example.com",
        "'self'",
        "ftp://example.com",
        "https://exa mple.com",
        "https://example.com;script-src *",
        "https://example.com\thttps://b.example",
        ",",
    ]
    for value in good:
        assert accepts.fullmatch(value), value
        embed_origins.parse_origins(value)
    for value in bad:
        assert not accepts.fullmatch(value), value
        with pytest.raises(ValueError):
            embed_origins.parse_origins(value)
