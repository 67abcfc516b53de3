"""The key pair behind self-signed IVS tokens: generate it, import its public half into IVS.

The private key goes to SSM as a SecureString (``IVS_PRIVATE_KEY``); the ARN IVS returns for the
public key goes to ``IVS_PUBLIC_KEY_ARN`` and becomes every token's ``kid``. IVS keeps no copy of
the private key and offers no key expiry: if it leaks, delete the public key in IVS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from livescreen.errors import ProviderError

_IMPORT_HINTS = {
    "ServiceQuotaExceededException": ": IVS allows a few public keys per region; delete unused "
    "ones with `aws ivs-realtime delete-public-key` and try again",
    "ConflictException": ": a public key with this name already exists; pick another name",
}


def generate_key_pair() -> tuple[str, str]:
    """A fresh P-384 key pair as ``(private PEM (PKCS#8), public PEM (SubjectPublicKeyInfo))``."""
    private_key = ec.generate_private_key(ec.SECP384R1())
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    public_pem = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return private_pem, public_pem


def import_public_key(client: Any, public_pem: str, name: str, tags: Mapping[str, str]) -> str:
    """Import ``public_pem`` into IVS (``ImportPublicKey``) and return the public key's ARN."""
    try:
        response = client.import_public_key(
            publicKeyMaterial=public_pem, name=name, tags=dict(tags)
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "error")
        raise ProviderError(
            f"IVS refused to import the public key {name!r} ({code}: {error.get('Message', '')})"
            + _IMPORT_HINTS.get(code, "")
        ) from exc
    except BotoCoreError as exc:
        raise ProviderError(f"Could not reach IVS to import the public key: {exc}") from exc
    arn = response.get("publicKey", {}).get("arn")
    if not arn:
        raise ProviderError("IVS imported the public key but returned no ARN")
    return str(arn)
