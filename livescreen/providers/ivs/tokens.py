"""Self-signed IVS participant tokens: ES384 JWTs that IVS verifies with an imported public key.

Signing locally means a viewer costs no ``CreateParticipantToken`` call (that API allows 50
requests a second per account). The claims follow the IVS Real-Time User Guide, "Distribute
Participant Tokens", section "Creating Tokens with a Key Pair"; see docs/ivs.md.
"""

from __future__ import annotations

import secrets

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from livescreen.config import ConfigError
from livescreen.providers.ivs.stages import LiveStage

ALGORITHM = "ES384"
CLAIMS_VERSION = "1.0"


def load_private_key(pem: str, *, key_name: str = "IVS_PRIVATE_KEY") -> ec.EllipticCurvePrivateKey:
    """Parse a P-384 private key; errors name the setting, never its value."""
    text = pem.strip().replace("\\n", "\n")  # a PEM pasted into one .env line keeps literal \n
    try:
        key = load_pem_private_key(text.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError):
        raise ConfigError(
            f"Setting {key_name} is not a PEM private key: it must hold the P-384 private key "
            "that `livescreen configure` generated (-----BEGIN PRIVATE KEY----- ...)"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP384R1):
        raise ConfigError(
            f"Setting {key_name} must be an EC P-384 (secp384r1) private key: IVS verifies "
            "participant tokens with ES384 only"
        )
    return key


class SubscribeTokenSigner:
    """Mints SUBSCRIBE-only participant tokens for one key pair."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, public_key_arn: str) -> None:
        self._private_key = private_key
        self._public_key_arn = public_key_arn

    @classmethod
    def from_pem(cls, private_key_pem: str, public_key_arn: str) -> SubscribeTokenSigner:
        return cls(load_private_key(private_key_pem), public_key_arn)

    def subscribe_token(
        self, stage: LiveStage, *, now: float, ttl_seconds: int, user_id: str | None = None
    ) -> str:
        """A token that lets one viewer join ``stage`` and receive, never send, media."""
        issued_at = int(now)
        participant_id = secrets.token_hex(16)
        claims = {
            "exp": issued_at + ttl_seconds,
            "iat": issued_at,
            "jti": participant_id,
            "resource": stage.arn,
            "topic": stage.stage_id,
            "events_url": stage.events_url,
            "whip_url": stage.whip_url,
            "user_id": user_id or f"viewer-{participant_id[:12]}",
            "capabilities": {"allow_publish": False, "allow_subscribe": True},
            "version": CLAIMS_VERSION,
        }
        return jwt.encode(
            claims,
            self._private_key,
            algorithm=ALGORITHM,
            headers={"kid": self._public_key_arn, "typ": "JWT"},
        )
