"""``/chat_token`` through the Lambda adapter, for every chat provider.

``local`` runs the dev server's own chat room; ``ivschat`` is a real botocore ``ivschat`` client
whose HTTP layer is botocore's Stubber, which checks every ``CreateChatToken`` request against
the service model AWS publishes (required fields, types, ranges, the room ARN pattern) and
every canned answer against the model's output shape.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from botocore.stub import ANY, Stubber

from livescreen.chat import HOST, VIEWER, clear_chat_cache
from livescreen.chat.ivschat import provider as ivschat_module
from livescreen.chat.ivschat.provider import THROTTLE_ATTEMPTS, IvsChat
from livescreen.chat.local.room import CHAT_ROOM
from livescreen.config import Settings
from livescreen.devserver.invoke import InvokeResult, invoke
from livescreen.providers import ProviderError, ProviderUnavailableError
from livescreen.providers.local.hub import HUB
from livescreen.security import host_session

SECRET = "chat-token-test-session-secret-0123456789"
REGION = "eu-west-1"
ROOM_ARN = f"arn:aws:ivschat:{REGION}:123456789012:room/AbCdEf123456"
BASE = {
    "STREAM_PROVIDER": "local",
    "HOST_PASSWORD": "chat test password",
    "HOST_SESSION_SECRET": SECRET,
}
LOCAL = Settings({**BASE, "CHAT_PROVIDER": "local"}, "test")
OFF = Settings({**BASE, "CHAT_PROVIDER": "off"}, "test")
IVSCHAT = Settings(
    {
        **BASE,
        "CHAT_PROVIDER": "ivschat",
        "IVS_CHAT_ROOM_ARN": ROOM_ARN,
        "CHAT_SESSION_MINUTES": "90",
    },
    "test",
)
TOKEN_EXPIRES = datetime.datetime(2026, 12, 3, 9, 1, tzinfo=datetime.UTC)
#: The token the stubbed CreateChatToken answers with.
ISSUED = "AQICAHg-chat-token"
SESSION_EXPIRES = datetime.datetime(2026, 12, 3, 10, 30, tzinfo=datetime.UTC)


def session() -> str:
    token, _ = host_session.issue("livestream-0123456789abcdef", secret=SECRET, ttl_seconds=600)
    return token


def chat_token(settings: Settings, body: Any, **kwargs: Any) -> InvokeResult:
    return invoke("chat_token", body, settings=settings, **kwargs)


@pytest.fixture(autouse=True)
def fresh_chat(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    clear_chat_cache()
    CHAT_ROOM.reset()
    yield
    clear_chat_cache()
    HUB.reset()
    CHAT_ROOM.reset()


# -- local ------------------------------------------------------------------------------------


def test_a_viewer_gets_a_local_token_to_read_and_send() -> None:
    result = chat_token(LOCAL, {"name": "  Vee  "})

    assert result.status == 200, result.text
    grant = result.json()
    assert grant["chat"] == "local"
    assert grant["role"] == VIEWER and grant["name"] == "Vee"
    assert grant["capabilities"] == ["SEND_MESSAGE"]
    assert grant["endpoint"] == "/chat"
    assert grant["identity"].startswith("viewer-")
    # AND the token works in the room, under that name
    assert CHAT_ROOM.chatter(grant["token"]).name == "Vee"


def test_each_viewer_gets_a_random_identity_even_under_the_same_name() -> None:
    first = chat_token(LOCAL, {"name": "Sam"}).json()
    second = chat_token(LOCAL, {"name": "Sam"}).json()

    assert first["identity"] != second["identity"]
    assert first["token"] != second["token"]


@pytest.mark.parametrize("where", ["body", "header"])
def test_the_host_session_gets_the_moderator_token(where: str) -> None:
    if where == "body":
        result = chat_token(LOCAL, {"session": session()})
    else:
        result = chat_token(LOCAL, {"name": "Ada"}, headers={"X-Host-Session": session()})

    assert result.status == 200, result.text
    grant = result.json()
    assert grant["role"] == HOST
    assert grant["name"] == ("Host" if where == "body" else "Ada")
    assert grant["capabilities"] == ["SEND_MESSAGE", "DELETE_MESSAGE", "DISCONNECT_USER"]
    assert CHAT_ROOM.chatter(grant["token"]).role == HOST


@pytest.mark.parametrize(
    "forged",
    [
        "eyJ2IjoxfQ.c2ln",
        session()[:-2] + "xx",
        host_session.issue(
            "livestream-0123456789abcdef", secret="another-secret-" * 3, ttl_seconds=600
        )[0],
        host_session.issue(
            "livestream-0123456789abcdef", secret=SECRET, ttl_seconds=60, now=lambda: 1_000_000.0
        )[0],
        5,
        ["a"],
    ],
    ids=["junk", "tampered", "other-secret", "expired", "number", "list"],
)
def test_a_forged_or_expired_session_is_401_never_a_viewer_token(forged: object) -> None:
    result = chat_token(LOCAL, {"name": "Mallory", "session": forged})

    assert result.status == 401, result.text
    assert set(result.json()) == {"error"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "n" * 33},
        {"name": "a\nb"},
        {"name": 7},
        {"name": "\ud800"},
        {"name": None},
    ],
    ids=[
        "missing",
        "empty",
        "spaces",
        "33 characters",
        "line break",
        "number",
        "surrogate",
        "null",
    ],
)
def test_a_bad_name_is_a_clear_400(body: dict[str, Any]) -> None:
    result = chat_token(LOCAL, body)

    assert result.status == 400, result.text
    assert result.json()["error"]


def test_a_name_may_come_form_encoded() -> None:
    result = chat_token(
        LOCAL, "name=Zo%C3%AB", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )

    assert result.status == 200, result.text
    assert result.json()["name"] == "Zoë"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("Host", "That name looks like the host's: pick another"),
        ("H0ST", "That name looks like the host's: pick another"),
        ("\u0397ost", "That name looks like the host's: pick another"),
        ("Host\u200b", "invisible characters"),
        ("Ada\U000e0041", "invisible characters"),
    ],
    ids=repr,
)
def test_a_viewer_may_not_pass_for_the_host_nor_hide_characters(name: str, why: str) -> None:
    result = chat_token(LOCAL, {"name": name})

    assert result.status == 400, result.text
    assert why in result.json()["error"]
    assert CHAT_ROOM.connected() == 0


def test_the_host_keeps_the_hosts_name() -> None:
    result = chat_token(LOCAL, {"name": "Host", "session": session()})

    assert result.status == 200, result.text
    assert (result.json()["name"], result.json()["role"]) == ("Host", HOST)


FLOODER = "198.51.100.66"
NEIGHBOUR = "203.0.113.2"


def test_one_address_gets_a_bounded_number_of_tokens_and_is_told_when_to_come_back() -> None:
    # GIVEN an address that took every token it may have
    limit = CHAT_ROOM.limits.tokens_per_address
    for n in range(limit):
        assert chat_token(LOCAL, {"name": f"Bot{n}"}, source_ip=FLOODER).status == 200

    # WHEN it asks for one more
    refused = chat_token(LOCAL, {"name": "Bot"}, source_ip=FLOODER)

    # THEN it is a 429 that says why and when to come back
    assert refused.status == 429
    assert "from your address" in refused.json()["error"]
    assert 0 < int(refused.headers["retry-after"]) <= CHAT_ROOM.limits.token_window_seconds
    # AND a viewer elsewhere, and the host from that very address, still get theirs
    assert chat_token(LOCAL, {"name": "Nina"}, source_ip=NEIGHBOUR).status == 200
    assert chat_token(LOCAL, {"session": session()}, source_ip=FLOODER).status == 200


def test_a_disconnected_address_gets_no_new_token_until_the_live_stream_ends() -> None:
    # GIVEN a live stream, the host in the chat, and a viewer it disconnects
    live = HUB.create_room()
    HUB.start(live.name)
    host = chat_token(LOCAL, {"session": session()}, source_ip="192.0.2.1").json()
    troll = chat_token(LOCAL, {"name": "Troll"}, source_ip=FLOODER).json()
    CHAT_ROOM.disconnect(host["token"], troll["identity"])

    # WHEN that address asks for a new token, under another name
    again = chat_token(LOCAL, {"name": "Nice person"}, source_ip=FLOODER)

    # THEN it is refused with a clear 403; others still get in
    assert again.status == 403
    assert again.json()["error"] == (
        "The host has disconnected you from the chat: you cannot join again until this stream ends"
    )
    assert chat_token(LOCAL, {"name": "Nina"}, source_ip=NEIGHBOUR).status == 200
    # AND once the stream ends, the address may join again
    HUB.stop(live.name)
    assert chat_token(LOCAL, {"name": "Troll"}, source_ip=FLOODER).status == 200


def test_when_chat_is_off_there_is_no_token() -> None:
    for body in ({"name": "Vee"}, {}, {"session": "forged"}):
        result = chat_token(OFF, body)
        assert result.status == 200
        assert result.json() == {"chat": "off", "token": None}


def test_local_chat_on_lambda_is_a_clear_503(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "live-screen-sharing-chat")

    result = chat_token(LOCAL, {"name": "Vee"})

    assert result.status == 503
    assert "ivschat" in result.json()["error"]


def test_a_chat_provider_that_does_not_exist_is_a_500_that_says_nothing() -> None:
    result = chat_token(Settings({**BASE, "CHAT_PROVIDER": "irc"}, "test"), {"name": "Vee"})

    assert result.status == 500
    assert result.json() == {"error": "Internal server error"}


def test_chat_token_takes_post_only() -> None:
    result = chat_token(LOCAL, None, method="GET")

    assert result.status == 405
    assert result.headers["allow"] == "POST, OPTIONS"


# -- ivschat, through botocore's Stubber ------------------------------------------------------


class StubbedChat:
    """A real ivschat client whose HTTP layer is the Stubber; ``sleeps`` records backoff waits."""

    def __init__(self) -> None:
        self.client = botocore.session.get_session().create_client(
            "ivschat",
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.stubber = Stubber(self.client)
        self.stubber.activate()
        self.sleeps: list[float] = []

    def chat(self) -> IvsChat:
        return IvsChat(self.client, ROOM_ARN, session_minutes=90, sleep=self.sleeps.append)

    def expect_token(self, params: dict[str, Any]) -> None:
        self.stubber.add_response(
            "create_chat_token",
            {
                "token": ISSUED,
                "tokenExpirationTime": TOKEN_EXPIRES,
                "sessionExpirationTime": SESSION_EXPIRES,
            },
            params,
        )

    def expect_error(self, code: str, status: int) -> None:
        self.stubber.add_client_error(
            "create_chat_token",
            service_error_code=code,
            service_message=f"{code} (stubbed)",
            http_status_code=status,
        )


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubbedChat]:
    stub = StubbedChat()
    made: list[str] = []

    def make_client(settings: Settings, region: str) -> Any:
        made.append(region)
        return stub.client

    monkeypatch.setattr(ivschat_module, "make_client", make_client)
    yield stub
    stub.stubber.assert_no_pending_responses()
    # the client is made for the room's own region, whatever IVS_REGION says
    assert set(made) <= {REGION}


def viewer_params(name: str) -> dict[str, Any]:
    return {
        "roomIdentifier": ROOM_ARN,
        "userId": ANY,
        "capabilities": ["SEND_MESSAGE"],
        "sessionDurationInMinutes": 90,
        "attributes": {"displayName": name, "role": "viewer"},
    }


def test_ivschat_viewer_token_may_only_send(stubbed: StubbedChat) -> None:
    stubbed.expect_token(viewer_params("Vee"))

    result = chat_token(IVSCHAT, {"name": "Vee"})

    assert result.status == 200, result.text
    assert result.json() == {
        "chat": "ivschat",
        "token": ISSUED,
        "identity": result.json()["identity"],
        "name": "Vee",
        "role": "viewer",
        "expiresAt": round(SESSION_EXPIRES.timestamp()),
        "endpoint": f"wss://edge.ivschat.{REGION}.amazonaws.com",
        "capabilities": ["SEND_MESSAGE"],
        "tokenExpiresAt": round(TOKEN_EXPIRES.timestamp()),
        "ticket": result.json()["ticket"],
    }
    assert result.json()["identity"].startswith("viewer-")


def test_ivschat_host_token_may_also_delete_and_disconnect(stubbed: StubbedChat) -> None:
    stubbed.expect_token(
        {
            "roomIdentifier": ROOM_ARN,
            "userId": ANY,
            "capabilities": ["SEND_MESSAGE", "DELETE_MESSAGE", "DISCONNECT_USER"],
            "sessionDurationInMinutes": 90,
            "attributes": {"displayName": "Host", "role": "host"},
        }
    )

    result = chat_token(IVSCHAT, {"session": session()})

    assert result.status == 200, result.text
    assert result.json()["role"] == "host"
    assert result.json()["capabilities"] == [
        "SEND_MESSAGE",
        "DELETE_MESSAGE",
        "DISCONNECT_USER",
    ]


def test_ivschat_forged_session_and_bad_name_never_reach_aws(stubbed: StubbedChat) -> None:
    assert chat_token(IVSCHAT, {"session": "forged.session"}).status == 401
    assert chat_token(IVSCHAT, {"name": "x" * 33}).status == 400
    # (a CreateChatToken call nobody expected would have failed the request: none was made)


def test_each_ivschat_chatter_gets_its_own_user_id(stubbed: StubbedChat) -> None:
    seen: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        seen.append(params["userId"])

    stubbed.client.meta.events.register("provide-client-params.ivschat.CreateChatToken", record)
    for _ in range(2):
        stubbed.expect_token(viewer_params("Same"))
        assert chat_token(IVSCHAT, {"name": "Same"}).status == 200

    assert len(set(seen)) == 2
    assert all(1 <= len(user_id) <= 128 for user_id in seen)


def test_an_ivschat_viewer_renewing_with_its_ticket_keeps_its_user_id(stubbed: StubbedChat) -> None:
    seen: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        seen.append(params["userId"])

    stubbed.client.meta.events.register("provide-client-params.ivschat.CreateChatToken", record)
    stubbed.expect_token(viewer_params("Same"))
    first = chat_token(IVSCHAT, {"name": "Same"}).json()
    stubbed.expect_token(viewer_params("Same"))
    renewed = chat_token(IVSCHAT, {"name": "Same", "ticket": first["ticket"]}).json()

    assert renewed["identity"] == first["identity"] == seen[0] == seen[1]
    assert renewed["ticket"]  # a fresh one, for the next renewal


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"name": "Vee", "ticket": "forged.ticket"}, "not valid"),
        ({"name": "Vee", "ticket": 42}, "not valid"),
        # a host's ticket presented by a viewer, and a viewer's by the host
        ({"name": "Vee", "ticket": "host"}, "not a viewer's"),
        ({"session": "host-session", "ticket": "viewer"}, "not a host's"),
    ],
)
def test_ivschat_a_bad_ticket_is_a_403_and_no_token_at_all(
    stubbed: StubbedChat, body: dict[str, Any], words: str
) -> None:
    from livescreen.chat import identity_ticket

    made = {
        role: identity_ticket.issue(f"{role}-0123456789abcdef", role, secret=SECRET)
        for role in (HOST, VIEWER)
    }
    body = {k: made.get(v, v) if k == "ticket" else v for k, v in body.items()}
    if body.get("session") == "host-session":
        body["session"] = session()

    result = chat_token(IVSCHAT, body)

    assert result.status == 403, result.text
    assert words in result.json()["error"]
    # (a CreateChatToken call nobody expected would have failed the request: none was made)


@pytest.mark.parametrize(
    ("code", "status", "answer", "words"),
    [
        ("AccessDeniedException", 403, 503, "ivschat:CreateChatToken"),
        ("ResourceNotFoundException", 404, 503, "IVS_CHAT_ROOM_ARN"),
        ("PendingVerification", 403, 503, "pending verification"),
        ("ValidationException", 400, 502, "ValidationException"),
        ("InternalServerException", 500, 502, "try again"),
    ],
)
def test_ivschat_errors_are_a_clear_503_or_502(
    stubbed: StubbedChat, code: str, status: int, answer: int, words: str
) -> None:
    stubbed.expect_error(code, status)

    result = chat_token(IVSCHAT, {"name": "Vee"})

    assert result.status == answer, result.text
    assert words in result.json()["error"]
    assert "stubbed" not in result.json()["error"]  # AWS's own text stays in the log


def test_a_throttled_token_is_retried_with_growing_jittered_waits(stubbed: StubbedChat) -> None:
    # GIVEN CreateChatToken throttles twice (a crowd arriving), then answers
    stubbed.expect_error("ThrottlingException", 429)
    stubbed.expect_error("ThrottlingException", 429)
    stubbed.expect_token(viewer_params("Patient"))

    grant = stubbed.chat().grant(name="Patient", role=VIEWER)

    # THEN the viewer gets its token after two waits, each within its doubling window
    assert grant.token == ISSUED
    assert len(stubbed.sleeps) == 2
    assert 0.1 <= stubbed.sleeps[0] <= 0.2
    assert 0.2 <= stubbed.sleeps[1] <= 0.4


def test_throttling_that_lasts_is_a_clear_503_with_retry_after(stubbed: StubbedChat) -> None:
    for _ in range(THROTTLE_ATTEMPTS):
        stubbed.expect_error("ThrottlingException", 429)

    with pytest.raises(ProviderUnavailableError) as caught:
        stubbed.chat().grant(name="Crowd", role=VIEWER)

    assert caught.value.status == 503
    assert caught.value.retry_after == 2
    assert "too many people joining at once" in caught.value.message
    # AND the waits were bounded: the whole retry fits well inside the function's timeout
    assert len(stubbed.sleeps) == THROTTLE_ATTEMPTS - 1
    assert sum(stubbed.sleeps) <= 2.0


def test_a_throttled_token_through_the_endpoint_is_a_503_with_retry_after(
    stubbed: StubbedChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(ivschat_module, "pause", waits.append)
    for _ in range(THROTTLE_ATTEMPTS):
        stubbed.expect_error("ThrottlingException", 429)

    result = chat_token(IVSCHAT, {"name": "Crowd"})

    assert result.status == 503
    assert result.headers["retry-after"] == "2"
    assert len(waits) == THROTTLE_ATTEMPTS - 1


def test_an_unreachable_ivschat_is_a_503(stubbed: StubbedChat) -> None:
    from botocore.exceptions import EndpointConnectionError

    def unreachable(**_: Any) -> Any:
        raise EndpointConnectionError(endpoint_url=f"https://ivschat.{REGION}.amazonaws.com")

    chat = stubbed.chat()
    chat.client = type("Unreachable", (), {"create_chat_token": staticmethod(unreachable)})()

    with pytest.raises(ProviderError) as caught:
        chat.grant(name="Vee", role=VIEWER)

    assert caught.value.status == 503
    assert "Could not reach Amazon IVS Chat" in caught.value.message


@pytest.mark.parametrize(
    "arn",
    [
        "",
        "not-an-arn",
        "arn:aws:ivs:eu-west-1:123456789012:stage/AbC",
        "arn:aws:ivschat:eu-west-1:123456789012:room/",
        f"{ROOM_ARN}/extra",
    ],
)
def test_a_malformed_room_arn_is_refused_when_the_chat_is_built(arn: str) -> None:
    from livescreen.config import ConfigError

    with pytest.raises(ConfigError) as caught:
        ivschat_module.create_chat(IVSCHAT.with_values(IVS_CHAT_ROOM_ARN=arn or " "))

    assert "IVS_CHAT_ROOM_ARN" in str(caught.value)


def test_the_ivschat_client_is_made_for_the_rooms_region() -> None:
    chat = ivschat_module.create_chat(IVSCHAT.with_values(IVS_REGION="us-east-1"))

    assert chat.client.meta.region_name == REGION
    assert chat.endpoint == f"wss://edge.ivschat.{REGION}.amazonaws.com"
