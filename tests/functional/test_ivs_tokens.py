"""Self-signed SUBSCRIBE tokens and the key pair behind them."""

from __future__ import annotations

import re
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from ivs_support import (
    EVENTS_URL,
    PRIVATE_PEM,
    PUBLIC_KEY_ARN,
    PUBLIC_PEM,
    WHIP_URL,
    StubbedIvs,
    stage_arn,
)

from livescreen.config import ConfigError
from livescreen.providers import ProviderError
from livescreen.providers.ivs.keys import generate_key_pair, import_public_key
from livescreen.providers.ivs.stages import LiveStage
from livescreen.providers.ivs.tokens import SubscribeTokenSigner, load_private_key

STAGE = LiveStage(stage_arn("AbCdEfGh1234"), events_url=EVENTS_URL, whip_url=WHIP_URL)


@pytest.fixture
def signer() -> SubscribeTokenSigner:
    return SubscribeTokenSigner.from_pem(PRIVATE_PEM, PUBLIC_KEY_ARN)


def test_a_subscribe_token_carries_every_claim_ivs_needs(signer):
    now = 1_750_000_000

    token = signer.subscribe_token(STAGE, now=now, ttl_seconds=14_400)

    header = jwt.get_unverified_header(token)
    assert header == {"alg": "ES384", "typ": "JWT", "kid": PUBLIC_KEY_ARN}
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["resource"] == STAGE.arn
    assert claims["topic"] == "AbCdEfGh1234"
    assert claims["events_url"] == EVENTS_URL
    assert claims["whip_url"] == WHIP_URL
    assert claims["capabilities"] == {"allow_publish": False, "allow_subscribe": True}
    assert claims["version"] == "1.0"
    assert claims["iat"] == now
    assert claims["exp"] == now + 14_400
    assert re.fullmatch(r"[a-zA-Z0-9-]{1,64}", claims["jti"])  # IVS's participant-id pattern
    assert 0 < len(claims["user_id"]) <= 128
    assert set(claims) == {
        "exp",
        "iat",
        "jti",
        "resource",
        "topic",
        "events_url",
        "whip_url",
        "user_id",
        "capabilities",
        "version",
    }


def test_every_viewer_gets_a_distinct_participant(signer):
    first = jwt.decode(
        signer.subscribe_token(STAGE, now=0, ttl_seconds=60), options={"verify_signature": False}
    )
    second = jwt.decode(
        signer.subscribe_token(STAGE, now=0, ttl_seconds=60), options={"verify_signature": False}
    )

    assert first["jti"] != second["jti"]
    assert first["user_id"] != second["user_id"]


def test_the_signature_verifies_with_the_imported_public_key(signer):
    token = signer.subscribe_token(STAGE, now=time.time(), ttl_seconds=60)

    claims = jwt.decode(token, PUBLIC_PEM, algorithms=["ES384"])

    assert claims["resource"] == STAGE.arn


def test_a_token_signed_with_another_key_pair_does_not_verify_against_ours():
    other_private, _ = generate_key_pair()
    forged = SubscribeTokenSigner.from_pem(other_private, PUBLIC_KEY_ARN).subscribe_token(
        STAGE, now=time.time(), ttl_seconds=60
    )

    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, PUBLIC_PEM, algorithms=["ES384"])


def test_an_expired_token_is_rejected(signer):
    token = signer.subscribe_token(STAGE, now=time.time() - 120, ttl_seconds=60)

    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(token, PUBLIC_PEM, algorithms=["ES384"])


def test_a_key_pasted_on_one_env_line_with_escaped_newlines_loads():
    one_line = PRIVATE_PEM.strip().replace("\n", "\\n")

    key = load_private_key(one_line)

    assert isinstance(key.curve, ec.SECP384R1)


def test_a_p256_key_is_refused_because_ivs_verifies_es384_only():
    p256 = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )

    with pytest.raises(ConfigError, match="IVS_PRIVATE_KEY must be an EC P-384"):
        load_private_key(p256)


def test_garbage_is_refused_without_echoing_it():
    with pytest.raises(ConfigError, match="IVS_PRIVATE_KEY") as raised:
        load_private_key("hunter2-not-a-key")

    assert "hunter2" not in str(raised.value)


# -- key pair ------------------------------------------------------------------------------------


def test_generated_key_pair_is_p384_and_its_halves_match():
    private_pem, public_pem = generate_key_pair()

    private_key = load_private_key(private_pem)
    public_key = serialization.load_pem_public_key(public_pem.encode())
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert isinstance(public_key.curve, ec.SECP384R1)
    assert public_key.public_numbers() == private_key.public_key().public_numbers()
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")


def test_import_public_key_returns_the_arn_ivs_assigned():
    ivs = StubbedIvs.create()
    _, public_pem = generate_key_pair()
    ivs.expect(
        "import_public_key",
        {
            "publicKey": {
                "arn": PUBLIC_KEY_ARN,
                "name": "livescreen-prod",
                "publicKeyMaterial": public_pem,
                "fingerprint": "98:0d:1a",
            }
        },
        {
            "publicKeyMaterial": public_pem,
            "name": "livescreen-prod",
            "tags": {"app": "live-screen-sharing"},
        },
    )

    arn = import_public_key(
        ivs.client, public_pem, "livescreen-prod", {"app": "live-screen-sharing"}
    )

    assert arn == PUBLIC_KEY_ARN
    ivs.stubber.assert_no_pending_responses()


def test_import_public_key_quota_error_says_what_to_do():
    ivs = StubbedIvs.create()
    ivs.expect_error("import_public_key", "ServiceQuotaExceededException", 402)

    with pytest.raises(ProviderError, match="delete-public-key"):
        import_public_key(ivs.client, PUBLIC_PEM, "livescreen-prod", {})
