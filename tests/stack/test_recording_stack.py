"""Recording in template.yaml: what exists with Recording=off and =on (conditions evaluated),
the recordings bucket (private, encrypted, expiring), its bucket policy and storage
configuration, the CloudFront origin and /recordings/* behaviour, the functions' environment,
IAM, routes and throttles."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
from typing import Any

import boto3
import pytest
from cfn_conditions import deployed
from stack_support import ROOT

from livescreen.providers.ivs.recording_layout import ENDED, EVENTS, FAILED, STARTED
from livescreen.providers.ivs.recording_store import IvsRecordingStore

pytestmark = pytest.mark.stack

RECORDING_RESOURCES = {
    "RecordingsBucket": "AWS::S3::Bucket",
    "RecordingsBucketPolicy": "AWS::S3::BucketPolicy",
    "IvsStorageConfiguration": "AWS::IVS::StorageConfiguration",
    "RecordingsOriginAccessControl": "AWS::CloudFront::OriginAccessControl",
    "RecordingsPathFunction": "AWS::CloudFront::Function",
}
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
BUCKET_ARN = {"Fn::GetAtt": ["RecordingsBucket", "Arn"]}
BUCKET_ARN_VALUE = "arn:aws:s3:::live-test-recordings"


@pytest.fixture(scope="module")
def recorded(template: dict[str, Any]) -> dict[str, Any]:
    """The stack deployed with Recording=on (and the default StreamProvider=ivs)."""
    return deployed(template, Recording="on")


def distribution(stack: dict[str, Any]) -> dict[str, Any]:
    return stack["Resources"]["Distribution"]["Properties"]["DistributionConfig"]


def behaviours(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["PathPattern"]: b for b in distribution(stack)["CacheBehaviors"]}


def variables(stack: dict[str, Any], template: dict[str, Any], function: str) -> dict[str, Any]:
    """A function's environment, the Globals' included (as SAM merges them)."""
    merged = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    merged.update(stack["Resources"][function]["Properties"]["Environment"]["Variables"])
    return merged


def statements(stack: dict[str, Any], function: str) -> list[dict[str, Any]]:
    found = []
    for policy in stack["Resources"][function]["Properties"].get("Policies", []):
        if isinstance(policy, dict) and "Statement" in policy:
            found += policy["Statement"]
    return found


def test_recording_is_off_by_default_and_recordings_are_kept_thirty_days(
    template: dict[str, Any],
) -> None:
    parameters = template["Parameters"]
    assert parameters["Recording"]["Default"] == "off"
    assert parameters["Recording"]["AllowedValues"] == ["off", "on"]
    retention = parameters["RecordingRetentionDays"]
    assert retention["Default"] == 30 and retention["MinValue"] >= 1
    # AND every function knows the setting (the dev server's default is on, the stack's off)
    assert template["Globals"]["Function"]["Environment"]["Variables"]["RECORDING"] == {
        "Ref": "Recording"
    }


@pytest.mark.parametrize(
    "parameters",
    [{}, {"Recording": "off"}, {"Recording": "on", "StreamProvider": "twilio"}],
    ids=["default", "off", "on-with-twilio"],
)
def test_without_ivs_recording_there_is_no_bucket_storage_configuration_or_route_to_them(
    template: dict[str, Any], parameters: dict[str, str]
) -> None:
    # GIVEN the stack deployed without IVS recording (Twilio keeps its compositions itself)
    stack = deployed(template, **parameters)
    resources = stack["Resources"]
    # THEN none of the recording resources exists, nothing serves /recordings/* ...
    assert not set(RECORDING_RESOURCES) & set(resources)
    assert "/recordings/*" not in behaviours(stack)
    assert [o["Id"] for o in distribution(stack)["Origins"]] == ["assets", "api"]
    assert "RecordingsBucket" not in stack["Outputs"]
    # ... the functions are told so, and the list function may read no bucket: only its
    # settings and the list of streams (which it matches the recordings with)
    assert variables(stack, template, "HostTokenFunction")["IVS_STORAGE_CONFIGURATION_ARN"] == ""
    assert variables(stack, template, "RecordingsFunction")["RECORDINGS_BUCKET"] == ""
    assert resources["RecordingsFunction"]["Properties"]["Policies"] == [
        {"Ref": "ReadSettingsPolicy"},
        {"Ref": "StreamsListPolicy"},
    ]
    assert resources["HostTokenFunction"]["Properties"]["Policies"][0] == {
        "Ref": "ReadSettingsPolicy"
    }


def test_with_recording_on_the_bucket_and_the_storage_configuration_exist(
    recorded: dict[str, Any],
) -> None:
    resources = recorded["Resources"]
    for name, kind in RECORDING_RESOURCES.items():
        assert resources[name]["Type"] == kind, name
    storage = resources["IvsStorageConfiguration"]["Properties"]
    assert storage["S3"] == {"BucketName": {"Ref": "RecordingsBucket"}}
    assert {"Key": "app", "Value": {"Ref": "AWS::StackName"}} in storage["Tags"]
    assert recorded["Outputs"]["RecordingsBucket"]["Value"] == {"Ref": "RecordingsBucket"}


def test_the_recordings_bucket_is_private_encrypted_as_ivs_needs_and_expires_recordings(
    recorded: dict[str, Any],
) -> None:
    bucket = recorded["Resources"]["RecordingsBucket"]
    properties = bucket["Properties"]
    # private: every public access block on, ACLs off (IVS needs bucket-owner enforced or
    # preferred), SSE-S3 (the only default encryption IVS can write with)
    block = properties["PublicAccessBlockConfiguration"]
    assert len(block) == 4 and all(value is True for value in block.values())
    assert properties["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
    }
    (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption == {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    # every object expires after RecordingRetentionDays (no filter: the whole bucket), and an
    # upload that never completed is cleaned up too
    (rule,) = properties["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["ExpirationInDays"] == {"Ref": "RecordingRetentionDays"}
    assert not {"Prefix", "Filter", "TagFilters"} & set(rule)
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    # the user's recordings survive `sam delete` (the lifecycle rule still empties the bucket)
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"


def test_only_the_distribution_reads_the_bucket_and_only_ivs_writes_it(
    recorded: dict[str, Any],
) -> None:
    policy = recorded["Resources"]["RecordingsBucketPolicy"]
    # written after the storage configuration, whose creation makes IVS edit the policy: this
    # policy then replaces IVS's edit and carries the same grant
    assert policy["DependsOn"] == "IvsStorageConfiguration"
    assert policy["Properties"]["Bucket"] == {"Ref": "RecordingsBucket"}
    by_sid = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert set(by_sid) == {"ReadThroughCloudFrontOnly", "IvsWritesRecordings", "DenyPlainHttp"}
    read = by_sid["ReadThroughCloudFrontOnly"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Action"] == "s3:GetObject"
    source = read["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert source.endswith(":distribution/${Distribution}")
    write = by_sid["IvsWritesRecordings"]
    assert write["Principal"] == {
        "Service": {"Fn::Sub": "ivs-composite.${AWS::Region}.amazonaws.com"}
    }
    assert write["Action"] == ["s3:PutObject", "s3:PutObjectAcl"]
    assert write["Condition"] == {
        "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"},
        "Bool": {"aws:SecureTransport": "true"},
    }
    deny = by_sid["DenyPlainHttp"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }


def test_cloudfront_serves_the_bucket_under_recordings_through_origin_access_control(
    recorded: dict[str, Any],
) -> None:
    resources = recorded["Resources"]
    oac = resources["RecordingsOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"]) == ("s3", "always")
    assert oac["SigningProtocol"] == "sigv4"
    origins = {o["Id"]: o for o in distribution(recorded)["Origins"]}
    assert origins["recordings"]["DomainName"] == {
        "Fn::GetAtt": ["RecordingsBucket", "RegionalDomainName"]
    }
    assert origins["recordings"]["OriginAccessControlId"] == {
        "Fn::GetAtt": ["RecordingsOriginAccessControl", "Id"]
    }
    assert origins["recordings"]["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    media = behaviours(recorded)["/recordings/*"]
    assert media["TargetOriginId"] == "recordings"
    assert media["ViewerProtocolPolicy"] == "redirect-to-https"
    assert media["AllowedMethods"] == ["GET", "HEAD"]
    assert media["CachePolicyId"] == {"Ref": "RecordingsCachePolicy"}
    assert media["ResponseHeadersPolicyId"] == {"Ref": "AudiencePageHeaders"}
    assert media["FunctionAssociations"] == [
        {
            "EventType": "viewer-request",
            "FunctionARN": {"Fn::GetAtt": ["RecordingsPathFunction", "FunctionARN"]},
        }
    ]


def run_viewer_request(code: str, uri: str) -> str:
    script = f"{code}\nconsole.log(handler({{request: {{uri: {json.dumps(uri)}}}}}).uri);"
    answer = subprocess.run(
        ["node", "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    return answer.stdout.strip()


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_viewer_request_function_maps_a_recordings_url_to_the_key_ivs_wrote(
    recorded: dict[str, Any],
) -> None:
    function = recorded["Resources"]["RecordingsPathFunction"]["Properties"]
    assert function["AutoPublish"] is True
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    key = "AbCdef1G2hij/st-ZyXwvu1T2s/xYz1c2d3e4f/2024-03-13T19-44-17Z/media/hls/multivariant.m3u8"
    # the playback URL the list hands out (RECORDINGS_URL + "/" + key) reaches the key itself
    assert run_viewer_request(function["FunctionCode"], f"/recordings/{key}") == f"/{key}"
    assert run_viewer_request(function["FunctionCode"], "/elsewhere/x") == "/elsewhere/x"


def test_the_functions_get_the_bucket_and_storage_configuration_they_use(
    template: dict[str, Any], recorded: dict[str, Any]
) -> None:
    host = variables(recorded, template, "HostTokenFunction")
    assert host["IVS_STORAGE_CONFIGURATION_ARN"] == {
        "Fn::GetAtt": ["IvsStorageConfiguration", "Arn"]
    }
    assert host["RECORDING"] == {"Ref": "Recording"}
    listing = variables(recorded, template, "RecordingsFunction")
    assert listing["RECORDINGS_BUCKET"] == {"Ref": "RecordingsBucket"}
    assert listing["LIVESCREEN_FUNCTION"] == "recordings"
    # RECORDINGS_URL keeps its default, /recordings on the pages' own origin: a function cannot
    # name the distribution (the distribution's API origin depends on the functions)
    assert "RECORDINGS_URL" not in listing
    assert "Distribution" not in repr(recorded["Resources"]["RecordingsFunction"]["Properties"])


def test_the_list_function_may_list_the_bucket_and_read_only_ivs_metadata(
    recorded: dict[str, Any],
) -> None:
    granted = statements(recorded, "RecordingsFunction")
    by_action = {s["Action"]: s["Resource"] for s in granted}
    assert by_action == {
        "s3:ListBucket": BUCKET_ARN,
        "s3:GetObject": {"Fn::Sub": "${RecordingsBucket.Arn}/*/" + EVENTS + "recording-*.json"},
    }
    # the metadata keys the store really reads (from moto's S3) are ones that pattern covers
    pattern = by_action["s3:GetObject"]["Fn::Sub"].replace(
        "${RecordingsBucket.Arn}", BUCKET_ARN_VALUE
    )
    read = metadata_keys_read()
    assert read, "the store read no metadata"
    for key in read:
        assert fnmatch.fnmatchcase(f"{BUCKET_ARN_VALUE}/{key}", pattern), key
    # AND no function may write or delete recordings (the command line deletes, with the
    # user's own credentials)
    for name, resource in recorded["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for statement in statements(recorded, name):
            if "RecordingsBucket" in repr(statement["Resource"]):
                actions = statement["Action"]
                actions = actions if isinstance(actions, list) else [actions]
                assert set(actions) <= {"s3:ListBucket", "s3:GetObject"}, name


def test_host_token_creates_recorded_stages_with_its_stage_grant_alone(
    recorded: dict[str, Any],
) -> None:
    # AWS's IAM reference gives ivs:CreateStage one resource type, the stage: a grant on the
    # storage configuration a recorded stage names would authorise nothing
    granted = statements(recorded, "HostTokenFunction")
    assert "IvsStorageConfiguration" not in repr(granted)
    (create,) = [s for s in granted if "ivs:CreateStage" in repr(s["Action"])]
    assert ":stage/*" in create["Resource"]["Fn::Sub"]


def test_the_recording_routes_their_throttles_and_cloudfront_behaviours(
    recorded: dict[str, Any],
) -> None:
    resources = recorded["Resources"]
    routes = {
        (e["Properties"]["Method"], e["Properties"]["Path"]): name
        for name in ("RecordingsFunction", "RecordingMediaFunction")
        for e in resources[name]["Properties"]["Events"].values()
    }
    assert routes == {
        ("GET", "/recordings"): "RecordingsFunction",
        ("POST", "/recordings"): "RecordingsFunction",
        ("GET", "/recording_media"): "RecordingMediaFunction",
    }
    assert resources["RecordingMediaFunction"]["Properties"]["Policies"] == [
        {"Ref": "ReadSettingsPolicy"}
    ]
    settings = resources["HttpApi"]["Properties"]["RouteSettings"]
    host = settings["POST /host_token"]
    # POST /recordings takes the host password: no more guesses through it than /host_token
    assert settings["POST /recordings"] == host
    for route in ("GET /recordings", "GET /recording_media"):
        assert settings[route]["ThrottlingRateLimit"] >= 1
    for path in ("/recordings", "/recording_media"):
        behaviour = behaviours(recorded)[path]
        assert behaviour["TargetOriginId"] == "api"
        assert {"GET", "POST"} <= set(behaviour["AllowedMethods"])
        assert behaviour["CachePolicyId"] == CACHING_DISABLED
        assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST


def metadata_keys_read() -> list[str]:
    """The keys the store's GetObject calls name, listing a moto bucket laid out as IVS writes:
    one recording ended, one failed, one in progress."""
    from moto import mock_aws

    read: list[str] = []
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="live-test-recordings")
        for participant, name, status in (
            ("Pa1", ENDED, "RECORDING_ENDED"),
            ("Pa2", FAILED, "RECORDING_ENDED_WITH_FAILURE"),
            ("Pa3", STARTED, "RECORDING_STARTED"),
        ):
            prefix = f"AbCdef1G2hij/st-ZyXwvu1T2s/{participant}/2024-03-13T19-44-17Z"
            document = {
                "recording_status": status,
                "recording_started_at": "2024-03-13T19:44:17Z",
                "media": {"hls": {"duration_ms": 5000}},
            }
            s3.put_object(
                Bucket="live-test-recordings",
                Key=f"{prefix}/{EVENTS}{name}",
                Body=json.dumps(document).encode(),
            )

        class Recorder:
            def __getattr__(self, name: str) -> Any:
                return getattr(s3, name)

            def get_object(self, **kwargs: Any) -> Any:
                read.append(kwargs["Key"])
                return s3.get_object(**kwargs)

        store = IvsRecordingStore(
            bucket="live-test-recordings", recordings_url="/recordings", client=Recorder()
        )
        assert len(store.list()) == 3
    return read


def csp_of(stack: dict[str, Any], policy: str) -> dict[str, list[str]]:
    """A response headers policy's CSP as directive -> sources, its !Sub variables filled in."""
    config = stack["Resources"][policy]["Properties"]["ResponseHeadersPolicyConfig"]
    value = config["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    sub = value["Fn::Sub"]
    text, variables = (sub, {}) if isinstance(sub, str) else sub
    variables = {"AWS::Region": "us-east-1", **variables}
    text = re.sub(r"\$\{([^}]+)\}", lambda m: str(variables[m.group(1)]), text)
    directives = {}
    for part in text.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.mark.parametrize(
    ("parameters", "cross_origin_media"),
    [
        ({"Recording": "on", "StreamProvider": "twilio"}, True),
        ({"Recording": "on", "StreamProvider": "ivs"}, False),
        ({"Recording": "off", "StreamProvider": "twilio"}, False),
        ({}, False),
    ],
    ids=["twilio-recording", "ivs-recording", "twilio-off", "default"],
)
def test_the_recordings_page_may_play_media_from_twilio_and_is_otherwise_as_strict(
    template: dict[str, Any], parameters: dict[str, str], cross_origin_media: bool
) -> None:
    stack = deployed(template, **parameters)
    # GIVEN recordings.html is served by its own behaviour, from the pages' bucket
    page = behaviours(stack)["/recordings.html"]
    assert page["TargetOriginId"] == "assets"
    assert page["ResponseHeadersPolicyId"] == {"Ref": "RecordingsPageHeaders"}
    assert page["AllowedMethods"] == ["GET", "HEAD"]
    assert page["CachePolicyId"] == CACHING_OPTIMIZED
    recordings = csp_of(stack, "RecordingsPageHeaders")
    audience = csp_of(stack, "AudiencePageHeaders")
    # THEN with Twilio recording a <video> may follow /recording_media's 302 to Twilio's media
    # host (any https: origin: Twilio does not document the host), hls.js gets blob: media ...
    expected_media = ["'self'", "blob:"] + (["https:"] if cross_origin_media else [])
    assert recordings["media-src"] == expected_media
    # ... fetches only this origin (the list, the playlists and segments under /recordings/)
    assert recordings["connect-src"] == ["'self'"]
    assert recordings["script-src"] == ["'self'"]
    # ... and everything else is the audience page's, which keeps its own media-src
    for directive, sources in audience.items():
        if directive not in {"media-src", "connect-src", "script-src"}:
            assert recordings[directive] == sources, directive
    assert set(recordings) == set(audience)
    assert audience["media-src"] == ["'self'", "blob:"]
    config = stack["Resources"]["RecordingsPageHeaders"]["Properties"][
        "ResponseHeadersPolicyConfig"
    ]
    audience_config = stack["Resources"]["AudiencePageHeaders"]["Properties"][
        "ResponseHeadersPolicyConfig"
    ]
    assert config["CustomHeadersConfig"] == audience_config["CustomHeadersConfig"]
    for header in (
        "StrictTransportSecurity",
        "ContentTypeOptions",
        "FrameOptions",
        "ReferrerPolicy",
    ):
        assert (
            config["SecurityHeadersConfig"][header]
            == audience_config["SecurityHeadersConfig"][header]
        )


def test_a_deleted_recording_leaves_cloudfront_within_the_documented_minutes(
    recorded: dict[str, Any],
) -> None:
    policy = recorded["Resources"]["RecordingsCachePolicy"]["Properties"]["CachePolicyConfig"]
    # IVS writes no Cache-Control, so DefaultTTL applies; MaxTTL bounds any that is sent
    assert policy["MinTTL"] == 0
    assert policy["DefaultTTL"] <= policy["MaxTTL"] <= 300
    key = policy["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert key["HeadersConfig"] == {"HeaderBehavior": "none"}
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "none"}
    assert behaviours(recorded)["/recordings/*"]["CachePolicyId"] == {
        "Ref": "RecordingsCachePolicy"
    }
    # AND the docs say how long, in the same number of minutes
    docs = (ROOT / "docs" / "ivs.md").read_text(encoding="utf-8")
    assert f"at most {policy['MaxTTL'] // 60} minutes" in docs


def functions_reading_recordings_public() -> set[str]:
    """The endpoints (functions/<name>.py) that ask whether the recordings are public."""
    found = set()
    for path in (ROOT / "functions").glob("*.py"):
        if "recordings_public(" in path.read_text(encoding="utf-8"):
            found.add(path.stem)
    return found


@pytest.mark.parametrize("value", ["false", "true"])
def test_recordings_public_is_a_parameter_every_function_that_asks_is_given(
    template: dict[str, Any], value: str
) -> None:
    parameter = template["Parameters"]["RecordingsPublic"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("false", ["false", "true"])
    readers = functions_reading_recordings_public()
    assert {"recordings", "recording_media", "audience_token"} <= readers
    stack = deployed(template, RecordingsPublic=value)
    given = set()
    for name, resource in stack["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        env = variables(stack, template, name) if "Environment" in resource["Properties"] else {}
        if env.get("LIVESCREEN_FUNCTION") in readers:
            assert env.get("RECORDINGS_PUBLIC") == {"Ref": "RecordingsPublic"}, name
            given.add(env["LIVESCREEN_FUNCTION"])
    assert given == readers
    # AND the docs' parameter table has the row
    readme = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert "| `RecordingsPublic` | `false` |" in readme
