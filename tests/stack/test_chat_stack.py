"""Chat in template.yaml: the IVS Chat room and its limits, the /chat_token function, its route,
throttle, CloudFront behaviour and IAM, and the function invoked as Lambda would with the
environment the template gives it (for Chat=ivschat and Chat=off)."""

from __future__ import annotations

import datetime
import importlib
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from aws_lambda_powertools.utilities import parameters
from botocore.stub import ANY, Stubber
from cfn_order import created_before
from moto import mock_aws
from stack_support import ROOT

from livescreen.chat import HOST_CAPABILITIES, VIEWER_CAPABILITIES, clear_chat_cache
from livescreen.chat.ivschat import provider as ivschat_module
from livescreen.chat.ivschat.review import COUNT_TIMEOUT
from livescreen.chat.text import MAX_MESSAGE_LENGTH
from livescreen.store.dynamodb_table import TRANSACT_ATTEMPTS

pytestmark = pytest.mark.stack

STACK = "live-chat-test"
REGION = "us-east-1"
ACCOUNT = "123456789012"
ROOM_ARN = f"arn:aws:ivschat:{REGION}:{ACCOUNT}:room/StackRoom1234"
#: CreateChatToken's rate limit per account and region (IVS Chat service quotas; not adjustable).
CREATE_CHAT_TOKEN_TPS = 200
EVENT_PATH = ROOT / "tests" / "events" / "http_api_v2_example.json"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def test_the_chat_parameter_defaults_to_ivschat_and_can_turn_chat_off(
    template: dict[str, Any],
) -> None:
    chat = template["Parameters"]["Chat"]
    assert chat["Default"] == "ivschat"
    assert chat["AllowedValues"] == ["ivschat", "off"]
    assert template["Conditions"]["HasIvsChat"] == {"Fn::Equals": [{"Ref": "Chat"}, "ivschat"]}


def test_the_room_exists_only_with_ivschat_and_has_its_limits(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    rooms = {k: r for k, r in resources.items() if r["Type"] == "AWS::IVSChat::Room"}
    assert list(rooms) == ["ChatRoom"]
    room = rooms["ChatRoom"]
    assert room["Condition"] == "HasIvsChat"
    properties = room["Properties"]
    # the length the server checks for local chat is the room's, IVS Chat's own maximum
    assert properties["MaximumMessageLength"] == MAX_MESSAGE_LENGTH == 500
    assert properties["MaximumMessageRatePerSecond"] == {"Ref": "ChatMessageRatePerSecond"}
    rate = template["Parameters"]["ChatMessageRatePerSecond"]
    # IVS Chat's default; CloudFormation's AWS::IVSChat::Room allows 1 to 10
    assert (rate["Default"], rate["MinValue"], rate["MaxValue"]) == (10, 1, 10)
    assert {"Key": "app", "Value": {"Ref": "AWS::StackName"}} in properties["Tags"]
    # a room name may hold only letters, digits, - and _ (test_cfn_lint.py checks it resolved)
    name, variables = properties["Name"]["Fn::Sub"]
    assert re.fullmatch(r"lss-\$\{StackId\}-chat", name)
    assert variables == {
        "StackId": {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}
    }
    output = template["Outputs"]["ChatRoomArn"]
    assert output["Condition"] == "HasIvsChat"
    assert output["Value"] == {"Fn::GetAtt": ["ChatRoom", "Arn"]}


def test_every_message_sent_to_the_room_is_reviewed_by_the_stacks_own_function(
    resources: dict[str, Any],
) -> None:
    # GIVEN the room's review handler
    handler = resources["ChatRoom"]["Properties"]["MessageReviewHandler"]
    assert handler["Uri"] == {"Fn::GetAtt": ["ChatReviewFunction", "Arn"]}
    # a reviewer that fails or is slow (200 ms, cold start included) lets messages through:
    # the chat never stops because of it
    assert handler["FallbackResult"] == "ALLOW"
    # THEN the reviewer exists with the room, runs the review module, reads no secret (no SSM
    # read in the 200 ms) and may only count messages in the stream store's table
    function = resources["ChatReviewFunction"]
    assert function["Condition"] == "HasIvsChat"
    assert function["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    properties = function["Properties"]
    assert properties["Handler"] == "livescreen.chat.ivschat.review.handler"
    assert properties["Layers"] == [{"Ref": "DependenciesLayer"}]
    assert properties["Policies"] == [{"Ref": "StreamsTablePolicy"}]
    assert "Events" not in properties
    assert properties["Timeout"] <= 3
    # AND it counts allowed messages into the stack's table, its calls so short that the
    # longest count (a chat message's three calls and a transaction's retries, each waiting to
    # connect and then to be answered) ends in half its timeout
    variables = properties["Environment"]["Variables"]
    assert variables["STREAM_STORE"] == "dynamodb"
    assert variables["STREAMS_TABLE"] == {"Ref": "StreamsTable"}
    calls = 3 + TRANSACT_ATTEMPTS - 1
    assert calls * 2 * COUNT_TIMEOUT <= properties["Timeout"] / 2
    # AND only IVS Chat may invoke it, and only for this account's rooms
    permission = resources["ChatReviewPermission"]
    assert permission["Condition"] == "HasIvsChat"
    assert permission["Properties"] == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Fn::GetAtt": ["ChatReviewFunction", "Arn"]},
        "Principal": "ivschat.amazonaws.com",
        "SourceAccount": {"Ref": "AWS::AccountId"},
        "SourceArn": {
            "Fn::Sub": "arn:${AWS::Partition}:ivschat:${AWS::Region}:${AWS::AccountId}:room/*"
        },
    }
    makefile = (ROOT / "sam" / "Makefile").read_text(encoding="utf-8")
    assert "build-ChatReviewFunction" in makefile


def test_the_reviewer_may_be_invoked_before_the_room_names_it(resources: dict[str, Any]) -> None:
    # IVS Chat's guide: the function must have its resource-based policy before a room uses it
    # as its message review handler, or creating the room fails. So the permission cannot name
    # the room's own ARN (CloudFormation would create it after the room): it is scoped to the
    # account's rooms, and the room waits for it.
    assert created_before(resources, "ChatReviewPermission", "ChatRoom")
    assert not created_before(resources, "ChatRoom", "ChatReviewPermission")
    assert created_before(resources, "ChatReviewFunction", "ChatReviewPermission")


def test_the_reviewer_named_by_the_template_answers_ivs_chat(template: dict[str, Any]) -> None:
    handler_name = template["Resources"]["ChatReviewFunction"]["Properties"]["Handler"]
    module_name, _, attribute = handler_name.rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    request = {
        "Content": "hello",
        "MessageId": "ABCDEFabcdef",
        "RoomArn": ROOM_ARN,
        "Attributes": {},
        "Sender": {"Attributes": {"displayName": "Vee"}, "UserId": "viewer-1", "Ip": "203.0.113.7"},
    }

    assert handler(request, LambdaContext()) == {"ReviewResult": "ALLOW", "Content": "hello"}
    assert handler({**request, "Content": "a\nb"}, LambdaContext()) == {"ReviewResult": "DENY"}


def test_chat_token_is_built_like_the_other_endpoints(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    function = resources["ChatTokenFunction"]
    assert function["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    properties = function["Properties"]
    assert properties["Handler"] == "livescreen.runtime.lambda_entry.handler"
    assert properties["Layers"] == [{"Ref": "DependenciesLayer"}]
    assert properties["Events"]["Post"] == {
        "Type": "HttpApi",
        "Properties": {"ApiId": {"Ref": "HttpApi"}, "Method": "POST", "Path": "/chat_token"},
    }
    variables = properties["Environment"]["Variables"]
    assert variables == {
        "LIVESCREEN_FUNCTION": "chat_token",
        "CHAT_PROVIDER": {"Ref": "Chat"},
        "IVS_CHAT_ROOM_ARN": {"Fn::If": ["HasIvsChat", {"Fn::GetAtt": ["ChatRoom", "Arn"]}, ""]},
        "CHAT_SESSION_MINUTES": {"Ref": "ChatSessionMinutes"},
    }
    minutes = template["Parameters"]["ChatSessionMinutes"]
    # CreateChatToken's sessionDurationInMinutes range (botocore's ivschat model)
    assert (minutes["MinValue"], minutes["MaxValue"]) == (1, 180)
    makefile = (ROOT / "sam" / "Makefile").read_text(encoding="utf-8")
    assert "build-ChatTokenFunction" in makefile


def test_chat_token_may_create_tokens_on_this_stacks_room_and_nothing_else(
    resources: dict[str, Any],
) -> None:
    policies = resources["ChatTokenFunction"]["Properties"]["Policies"]
    assert policies[0] == {"Ref": "ReadSettingsPolicy"}
    (conditional,) = policies[1:]
    condition, granted, otherwise = conditional["Fn::If"]
    assert condition == "HasIvsChat"
    assert otherwise == {"Ref": "AWS::NoValue"}  # Chat=off: the role may read settings, no more
    assert granted["Statement"] == [
        {
            "Sid": "CreateChatTokens",
            "Effect": "Allow",
            "Action": "ivschat:CreateChatToken",
            "Resource": {"Fn::GetAtt": ["ChatRoom", "Arn"]},
        }
    ]
    # AND no other function may touch IVS Chat
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function" or name == "ChatTokenFunction":
            continue
        assert "ivschat:" not in json.dumps(resource["Properties"].get("Policies", [])), name


def test_the_chat_token_route_stays_inside_create_chat_tokens_account_limit(
    resources: dict[str, Any],
) -> None:
    route = resources["HttpApi"]["Properties"]["RouteSettings"]["POST /chat_token"]
    # A burst is let through at once, then the rate each second: both stay under the 200 a
    # second IVS allows the whole account, so the function's own retries rarely have work
    assert route["ThrottlingBurstLimit"] <= CREATE_CHAT_TOKEN_TPS
    assert route["ThrottlingRateLimit"] <= CREATE_CHAT_TOKEN_TPS // 2
    assert route["ThrottlingRateLimit"] >= 10  # a crowd still gets in within seconds


def test_chat_token_is_served_through_cloudfront_uncached(resources: dict[str, Any]) -> None:
    distribution = resources["Distribution"]["Properties"]["DistributionConfig"]
    behaviour = next(
        b for b in distribution["CacheBehaviors"] if b.get("PathPattern") == "/chat_token"
    )
    assert behaviour["TargetOriginId"] == "api"
    assert behaviour["CachePolicyId"] == CACHING_DISABLED
    assert behaviour["ViewerProtocolPolicy"] == "https-only"
    assert "POST" in behaviour["AllowedMethods"]


def test_the_pages_may_open_the_chat_websocket_of_the_stacks_region(
    resources: dict[str, Any],
) -> None:
    for name in ("AudiencePageHeaders", "HostPageHeaders"):
        config = resources[name]["Properties"]["ResponseHeadersPolicyConfig"]
        csp = config["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
        sub = csp["Fn::Sub"]
        text = sub if isinstance(sub, str) else sub[0]  # [text, variables] with variables
        connect = next(d for d in text.split(";") if d.strip().startswith("connect-src"))
        # the endpoint IVS Chat's messaging API answers on, for the room's (the stack's) region
        assert "wss://edge.ivschat.${AWS::Region}.amazonaws.com" in connect.split()


# -- the function, invoked as Lambda would with the template's environment ---------------------


def resolve(value: Any, parameters_: dict[str, Any]) -> str:
    """The value CloudFormation would give a plain environment variable."""
    names = {
        "AWS::StackName": STACK,
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::URLSuffix": "amazonaws.com",
        **parameters_,
    }
    if isinstance(value, dict) and "Ref" in value:
        return str(names[value["Ref"]])
    if isinstance(value, dict) and "Fn::Sub" in value:
        return re.sub(r"\$\{([^}]+)\}", lambda m: str(names[m.group(1)]), value["Fn::Sub"])
    if isinstance(value, dict) and "Fn::If" in value:
        condition, then, otherwise = value["Fn::If"]
        assert condition == "HasIvsChat"
        return resolve(then if parameters_["Chat"] == "ivschat" else otherwise, parameters_)
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        assert value["Fn::GetAtt"] == ["ChatRoom", "Arn"]
        return ROOM_ARN
    return str(value)


class LambdaContext:
    function_name = f"{STACK}-chat-token"
    function_version = "$LATEST"
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{STACK}-chat-token"
    memory_limit_in_mb = 256
    aws_request_id = "0d9f1c2e-3b4a-4c5d-8e7f-6a5b4c3d2e1f"
    log_group_name = f"/aws/lambda/{STACK}"
    log_stream_name = "2026/12/03/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]


@pytest.fixture
def stubbed_chat(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    client = botocore.session.get_session().create_client(
        "ivschat", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    stubber.activate()
    monkeypatch.setattr(ivschat_module, "make_client", lambda settings, region: client)
    yield stubber
    stubber.assert_no_pending_responses()


@pytest.fixture
def invoke_chat_token(
    template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str, dict[str, Any]], dict[str, Any]]]:
    """invoke(Chat parameter, body) -> the Lambda response of ChatTokenFunction."""
    for key, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_LAMBDA_FUNCTION_NAME": f"{STACK}-chat-token",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    parameters.clear_caches()
    clear_chat_cache()
    with mock_aws():
        ssm = boto3.client("ssm")

        def run(chat: str, body: dict[str, Any]) -> dict[str, Any]:
            parameters_ = {n: p.get("Default") for n, p in template["Parameters"].items()}
            parameters_["Chat"] = chat
            variables = dict(template["Globals"]["Function"]["Environment"]["Variables"])
            function = template["Resources"]["ChatTokenFunction"]["Properties"]
            variables.update(function["Environment"]["Variables"])
            for key, value in variables.items():
                monkeypatch.setenv(key, resolve(value, parameters_))
            path = resolve(variables["PARAMETER_PATH"], parameters_)
            # what `livescreen configure` stores for the default (ivs) streaming provider; the
            # chat reads none of it, but every function checks its provider's settings
            for key, value in {
                "HOST_PASSWORD": "a stack chat test password",
                "HOST_SESSION_SECRET": "stack-chat-session-secret-0123456789",
                "IVS_PRIVATE_KEY": "not read by the chat",
                "IVS_PUBLIC_KEY_ARN": f"arn:aws:ivs:{REGION}:{ACCOUNT}:public-key/Pk0123",
            }.items():
                ssm.put_parameter(
                    Name=f"{path}/{key}", Value=value, Type="SecureString", Overwrite=True
                )
            event = json.loads(EVENT_PATH.read_text(encoding="utf-8"))
            event["routeKey"] = event["requestContext"]["routeKey"] = "POST /chat_token"
            event["rawPath"] = event["requestContext"]["http"]["path"] = "/chat_token"
            event["body"] = json.dumps(body)
            event["headers"]["content-length"] = str(len(event["body"]))
            module_name, _, attribute = function["Handler"].rpartition(".")
            handler = getattr(importlib.import_module(module_name), attribute)
            response: dict[str, Any] = handler(event, LambdaContext())
            return response

        yield run
    parameters.clear_caches()
    clear_chat_cache()


def test_with_chat_off_the_function_answers_that_there_is_no_chat(
    invoke_chat_token: Invoke,
) -> None:
    response = invoke_chat_token("off", {"name": "Vee"})

    assert response["statusCode"] == 200, response
    assert json.loads(response["body"]) == {"chat": "off", "token": None}


def test_with_ivschat_a_viewer_gets_a_token_for_the_stacks_room(
    invoke_chat_token: Invoke, stubbed_chat: Stubber
) -> None:
    expires = datetime.datetime(2026, 12, 3, 10, 0, tzinfo=datetime.UTC)
    stubbed_chat.add_response(
        "create_chat_token",
        {
            "token": "stack-chat-token",
            "tokenExpirationTime": expires,
            "sessionExpirationTime": expires,
        },
        {
            "roomIdentifier": ROOM_ARN,
            "userId": ANY,
            "capabilities": list(VIEWER_CAPABILITIES),
            "sessionDurationInMinutes": 60,
            "attributes": {"displayName": "Vee", "role": "viewer"},
        },
    )

    response = invoke_chat_token("ivschat", {"name": "Vee"})

    assert response["statusCode"] == 200, response
    body = json.loads(response["body"])
    assert body["chat"] == "ivschat"
    assert body["token"] == "stack-chat-token"
    assert body["endpoint"] == f"wss://edge.ivschat.{REGION}.amazonaws.com"
    assert body["capabilities"] == list(VIEWER_CAPABILITIES)
    assert list(HOST_CAPABILITIES) == ["SEND_MESSAGE", "DELETE_MESSAGE", "DISCONNECT_USER"]


def test_local_chat_is_refused_on_lambda_with_a_clear_503(
    template: dict[str, Any], invoke_chat_token: Invoke
) -> None:
    # (the stack never sets it: Chat allows only ivschat and off; a hand-edited environment)
    assert "local" not in template["Parameters"]["Chat"]["AllowedValues"]

    response = invoke_chat_token("local", {"name": "Vee"})

    assert response["statusCode"] == 503
    assert "ivschat" in json.loads(response["body"])["error"]
