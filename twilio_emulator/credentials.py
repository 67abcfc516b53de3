"""Who may call the emulator: the account's credentials, checked as Twilio checks them.

The REST API takes HTTP Basic auth with the account SID and its auth token, or an API key SID
and its secret. A Video client (``EmulatorServer.connect``) brings an access token signed with
one of the account's API keys instead.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping

from twilio_emulator.errors import ApiError

# Fixed credentials of a local fake, used when none are configured.
DEFAULT_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEFAULT_AUTH_TOKEN = "emulator-auth-token-not-a-secret-0000"  # noqa: S105
DEFAULT_API_KEY_SID = "SK" + "0" * 31 + "1"
DEFAULT_API_KEY_SECRET = "emulator-api-key-secret-not-a-secret-00"  # noqa: S105


class Credentials:
    """The account SID with its auth token, and each API key SID with its secret.

    ``api_keys`` None means the default key (``DEFAULT_API_KEY_SID``).
    """

    def __init__(
        self, account_sid: str, auth_token: str, api_keys: Mapping[str, str] | None
    ) -> None:
        self.account_sid = account_sid
        self._secrets = {account_sid: auth_token}
        self._secrets.update(
            api_keys if api_keys is not None else {DEFAULT_API_KEY_SID: DEFAULT_API_KEY_SECRET}
        )

    def authorised(self, header: str | None) -> bool:
        """Whether an ``Authorization`` header is Basic auth with a known SID and its secret."""
        if not header or not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[len("Basic ") :], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, _, password = decoded.partition(":")
        expected = self._secrets.get(user)
        return expected is not None and hmac.compare_digest(expected, password)

    def video_grant(self, token: str) -> tuple[str, str]:
        """The ``(identity, room)`` a Video access token grants, or Twilio's refusal.

        The token must be signed with one of this account's API keys (HS256, ``iss`` the key,
        ``sub`` the account), unexpired, and carry an identity and a VideoGrant naming a room:
        otherwise ``ApiError`` 20101 (invalid token) or 20104 (expired).
        """
        import jwt

        refused = ApiError(401, 20101, "Invalid Access Token")
        try:
            header = jwt.get_unverified_header(token)
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
            secret = self._secrets.get(issuer) if isinstance(issuer, str) else None
            if secret is None or not str(issuer).startswith("SK") or header.get("alg") != "HS256":
                raise refused
            claims = jwt.decode(token, secret, algorithms=["HS256"])
        except jwt.ExpiredSignatureError:
            raise ApiError(401, 20104, "Access Token expired or expiration date invalid") from None
        except jwt.InvalidTokenError:
            raise refused from None
        grants = claims.get("grants")
        if claims.get("sub") != self.account_sid or not isinstance(grants, dict):
            raise refused
        identity = grants.get("identity")
        video = grants.get("video")
        room = video.get("room") if isinstance(video, dict) else None
        if not isinstance(identity, str) or not identity or not isinstance(room, str) or not room:
            raise refused
        return identity, room
