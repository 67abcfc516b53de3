"""The dev server sends the security headers the stack's CloudFront sends: the same values, on
the same paths (``livescreen/devserver/guards.py`` keeps a copy of template.yaml's policies)."""

from __future__ import annotations

from typing import Any

import pytest

from livescreen.devserver import guards

pytestmark = pytest.mark.stack

#: The dev server's policy for each of the template's, by the path CloudFront gives it to.
POLICIES = {
    "AudiencePageHeaders": "/index.html",
    "HostPageHeaders": guards.HOST_PAGE,
    "RecordingsPageHeaders": guards.RECORDINGS_PAGE,
    "EmbedPageHeaders": guards.EMBED_PAGE,
}


def policy(resources: dict[str, Any], name: str) -> dict[str, Any]:
    config: dict[str, Any] = resources[name]["Properties"]["ResponseHeadersPolicyConfig"]
    return config


def csp_source(config: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The CSP as written in the template (its ``${...}`` left in), and its !Sub variables."""
    csp = config["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    sub = csp["Fn::Sub"]
    return (sub, {}) if isinstance(sub, str) else (sub[0], sub[1])


@pytest.mark.parametrize("name", list(POLICIES))
def test_the_dev_servers_headers_are_the_templates(resources: dict[str, Any], name: str) -> None:
    config = policy(resources, name)
    security = config["SecurityHeadersConfig"]
    custom = {
        item["Header"].lower(): item["Value"] for item in config["CustomHeadersConfig"]["Items"]
    }
    dev = {k.decode(): v.decode() for k, v in guards.security_headers(POLICIES[name])}

    # the CSP, with the template's variables where the dev server fills in its own values
    template_csp, variables = csp_source(config)
    if name == "RecordingsPageHeaders":
        assert variables["TwilioMedia"] == {"Fn::If": ["HasTwilioRecording", " https:", ""]}
        written = guards.RECORDINGS_CSP.format(twilio_media="${TwilioMedia}")
    elif name == "EmbedPageHeaders":
        # frame-ancestors: EMBED_ORIGINS on the dev server, the EmbedOrigins parameter here
        assert variables["TwilioVideoEval"] == {"Fn::If": ["IsTwilio", " 'unsafe-eval'", ""]}
        written = guards.EMBED_CSP.format(
            region="${AWS::Region}",
            twilio_eval="${TwilioVideoEval}",
            frame_ancestors="${FrameAncestors}",
        )
    else:
        assert variables["TwilioVideoEval"] == {"Fn::If": ["IsTwilio", " 'unsafe-eval'", ""]}
        written = guards.PAGE_CSP.format(region="${AWS::Region}", twilio_eval="${TwilioVideoEval}")
    assert written == template_csp
    assert all(item["Override"] for item in security.values())
    assert "ContentTypeOptions" in security
    assert dev["x-content-type-options"] == "nosniff"
    if "FrameOptions" in security:
        assert dev["x-frame-options"] == security["FrameOptions"]["FrameOption"]
    else:  # the embed page: its DENY would refuse every frame
        assert "x-frame-options" not in dev
    assert dev["referrer-policy"] == security["ReferrerPolicy"]["ReferrerPolicy"]
    assert dev["permissions-policy"] == custom["permissions-policy"]
    # every header the policy sets is sent, but HSTS (meaningless over the dev server's HTTP)
    sent = {"ContentSecurityPolicy", "ContentTypeOptions", "FrameOptions", "ReferrerPolicy"}
    if name == "EmbedPageHeaders":
        sent.remove("FrameOptions")
    assert set(security) == sent | {"StrictTransportSecurity"}
    assert set(custom) == {"permissions-policy"}


def test_the_dev_server_picks_the_policy_by_the_paths_cloudfront_does(
    resources: dict[str, Any],
) -> None:
    config = resources["Distribution"]["Properties"]["DistributionConfig"]
    by_path = {
        b["PathPattern"]: b["ResponseHeadersPolicyId"]["Ref"]
        for b in config["CacheBehaviors"]
        if isinstance(b, dict) and "PathPattern" in b
    }
    assert config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {
        "Ref": "AudiencePageHeaders"
    }
    assert {path for path, name in by_path.items() if name != "AudiencePageHeaders"} == {
        guards.HOST_PAGE,
        guards.RECORDINGS_PAGE,
        guards.EMBED_PAGE,
    }
    assert by_path[guards.HOST_PAGE] == "HostPageHeaders"
    assert by_path[guards.RECORDINGS_PAGE] == "RecordingsPageHeaders"
    assert by_path[guards.EMBED_PAGE] == "EmbedPageHeaders"
