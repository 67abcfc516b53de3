"""``livescreen configure``: put a deployed stack's secrets into SSM Parameter Store.

The stack's ``ParameterPath`` output names the SSM path its functions read. Secrets come from
an ``.env`` file or from prompts that do not echo; each is written as a SecureString. The host
session secret is generated when absent; for the ``ivs`` provider a P-384 key pair is generated,
its public half imported into IVS and its private half stored. No secret value is ever printed.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livescreen.config import (
    MIN_SESSION_SECRET_LENGTH,
    PROVIDER_REQUIREMENTS,
    ConfigError,
    Settings,
    parse_dotenv,
)
from livescreen.security import password_guard

#: The settings that live in SSM (everything else comes from the template's environment).
STORED_KEYS = (
    "HOST_PASSWORD",
    "HOST_SESSION_SECRET",
    "ACCOUNT_SID",
    "AUTH_TOKEN",
    "API_KEY_SID",
    "API_KEY_SECRET",
    "IVS_PRIVATE_KEY",
    "IVS_PUBLIC_KEY_ARN",
)
DEPLOYABLE_PROVIDERS = ("ivs", "twilio")
PARAMETER_PATH_OUTPUT = "ParameterPath"

Prompt = Callable[[str], str]


@dataclass(frozen=True)
class StackInfo:
    parameter_path: str
    provider: str | None


@dataclass
class ConfigureResult:
    parameter_path: str
    provider: str
    written: list[str] = field(default_factory=list)
    generated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def report(self) -> list[str]:
        """Lines for the user: key names only, never values."""
        lines = [f"Stack secrets live under {self.parameter_path} (provider {self.provider})."]
        if self.written:
            lines.append(f"Set: {', '.join(self.written)}")
        else:
            lines.append("Set: nothing (every value was already there)")
        if self.generated:
            lines.append(f"Generated: {', '.join(self.generated)}")
        if self.kept:
            lines.append(
                f"Kept the stored {', '.join(self.kept)} (replacing it would sign the host out "
                "or invalidate viewer tokens; delete the parameter first to replace it)"
            )
        if self.missing:
            lines.append(
                f"Still missing for the {self.provider} provider: {', '.join(self.missing)} "
                "(add them to the --env-file or run again in a terminal to be asked)"
            )
        else:
            lines.append(f"Nothing is missing for the {self.provider} provider.")
        return lines


def describe_stack(cloudformation: Any, stack_name: str) -> StackInfo:
    """The SSM path (and provider parameter) of a deployed stack, from DescribeStacks."""
    from botocore.exceptions import ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") != "ValidationError":  # AccessDenied, ExpiredToken, throttling...
            raise ConfigError(
                f"Could not read stack {stack_name!r}: {error.get('Code', 'error')}: "
                f"{error.get('Message', '')} (check your AWS credentials and --region)"
            ) from exc
        raise ConfigError(
            f"Stack {stack_name!r} was not found ({error.get('Message', '')}): "
            "deploy it with `sam deploy --guided`, or name it with --stack and --region"
        ) from exc
    stack = stacks[0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
    path = outputs.get(PARAMETER_PATH_OUTPUT)
    if not path:
        raise ConfigError(
            f"Stack {stack_name!r} has no {PARAMETER_PATH_OUTPUT} output: is it a "
            "live-screen-sharing stack, and has its deployment finished?"
        )
    parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters") or []}
    return StackInfo(path.rstrip("/"), parameters.get("StreamProvider"))


def stored_names(ssm: Any, path: str) -> set[str]:
    """The setting names already stored under ``path`` (values are not read)."""
    names: set[str] = set()
    paginator = ssm.get_paginator("get_parameters_by_path")
    for page in paginator.paginate(Path=path, Recursive=False, WithDecryption=False):
        for parameter in page.get("Parameters", []):
            names.add(parameter["Name"].rsplit("/", 1)[-1])
    return names


def values_from_env_file(env_file: Path | None) -> dict[str, str]:
    if env_file is None:
        return {}
    if not env_file.is_file():
        raise ConfigError(f"No settings file at {env_file}")
    parsed = parse_dotenv(env_file.read_text(encoding="utf-8"))
    return {k: v for k, v in parsed.items() if k in STORED_KEYS and v != ""}


def required_keys(provider: str) -> tuple[str, ...]:
    return ("HOST_PASSWORD", "HOST_SESSION_SECRET", *PROVIDER_REQUIREMENTS[provider])


def _missing(provider: str, present: Iterable[str]) -> list[str]:
    return Settings(dict.fromkeys(present, "set")).missing_for(provider)


def configure(
    *,
    ssm: Any,
    cloudformation: Any,
    stack_name: str,
    provider: str | None = None,
    env_file: Path | None = None,
    prompt: Prompt | None = None,
    ivs_client_factory: Callable[[], Any] | None = None,
) -> ConfigureResult:
    """Write the stack's secrets; ``prompt`` (no echo) is asked for required keys still missing."""
    stack = describe_stack(cloudformation, stack_name)
    chosen = (provider or stack.provider or "ivs").strip().lower()
    if chosen not in DEPLOYABLE_PROVIDERS:
        raise ConfigError(
            f"Provider {chosen!r} cannot run on Lambda: choose one of "
            f"{', '.join(DEPLOYABLE_PROVIDERS)}"
        )
    present = stored_names(ssm, stack.parameter_path)
    to_write = values_from_env_file(env_file)
    result = ConfigureResult(stack.parameter_path, chosen)
    # Keys that sign things are never silently replaced from a file (a dev .env has its own).
    for key in sorted(_KEPT_WHEN_STORED & present & set(to_write)):
        del to_write[key]
    result.kept = sorted(_KEPT_WHEN_STORED & present & set(values_from_env_file(env_file)))
    check_values(to_write)

    generated_keys = {"HOST_SESSION_SECRET", "IVS_PRIVATE_KEY", "IVS_PUBLIC_KEY_ARN"}
    if prompt is not None:
        for key in required_keys(chosen):
            if key not in present and key not in to_write and key not in generated_keys:
                value = prompt(key).strip()
                if value:
                    check_values({key: value})
                    to_write[key] = value

    known = present | set(to_write)
    if "HOST_SESSION_SECRET" not in known:
        to_write["HOST_SESSION_SECRET"] = secrets.token_urlsafe(32)
        result.generated.append("HOST_SESSION_SECRET")
    # Both halves or neither: a new pair replaces a lone key, which could never verify.
    if chosen == "ivs" and not {"IVS_PRIVATE_KEY", "IVS_PUBLIC_KEY_ARN"} <= known:
        if ivs_client_factory is None:
            raise ConfigError("The ivs provider needs an IVS client to import its public key")
        private_pem, arn = _new_ivs_key(ivs_client_factory(), stack_name)
        to_write["IVS_PRIVATE_KEY"] = private_pem
        to_write["IVS_PUBLIC_KEY_ARN"] = arn
        result.generated += ["IVS_PRIVATE_KEY", "IVS_PUBLIC_KEY_ARN"]

    for key in STORED_KEYS:
        if key in to_write:
            ssm.put_parameter(
                Name=f"{stack.parameter_path}/{key}",
                Value=to_write[key],
                Type="SecureString",
                Overwrite=True,
                Description=f"live-screen-sharing {key} for stack {stack_name}",
            )
            result.written.append(key)
    result.missing = _missing(chosen, present | set(to_write))
    return result


#: Stored values that a file never replaces: the session key and the IVS key pair.
_KEPT_WHEN_STORED = frozenset({"HOST_SESSION_SECRET", "IVS_PRIVATE_KEY", "IVS_PUBLIC_KEY_ARN"})


def check_values(values: dict[str, str]) -> None:
    """Refuse, before anything is written, values the functions could never use (or a host
    password too short to resist guessing)."""
    password = values.get("HOST_PASSWORD")
    reason = password_guard.weak_password_reason(password) if password is not None else None
    if reason:
        raise ConfigError(f"{reason}: nothing was changed")
    secret = values.get("HOST_SESSION_SECRET")
    if secret is not None and len(secret) < MIN_SESSION_SECRET_LENGTH:
        raise ConfigError(
            f"HOST_SESSION_SECRET must be at least {MIN_SESSION_SECRET_LENGTH} characters: "
            "nothing was changed (leave it out to have one generated)"
        )
    ivs_keys_given = {"IVS_PRIVATE_KEY", "IVS_PUBLIC_KEY_ARN"} & set(values)
    if len(ivs_keys_given) == 1:
        raise ConfigError(
            f"Only {ivs_keys_given.pop()} of the IVS key pair was given: give both "
            "IVS_PRIVATE_KEY and IVS_PUBLIC_KEY_ARN, or neither to have a pair generated; "
            "nothing was changed"
        )
    if "IVS_PRIVATE_KEY" in values:
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        try:
            key = load_pem_private_key(values["IVS_PRIVATE_KEY"].encode(), password=None)
        except (ValueError, TypeError):
            key = None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp384r1":
            raise ConfigError(
                "IVS_PRIVATE_KEY is not an unencrypted P-384 private key in PEM format (in a "
                ".env file, put it on one line in double quotes with \\n for line breaks); "
                "nothing was changed"
            )


def _new_ivs_key(client: Any, stack_name: str) -> tuple[str, str]:
    """Generate a key pair, import its public half; returns (private PEM, public key ARN)."""
    from livescreen.providers.ivs import keys as ivs_keys

    private_pem, public_pem = ivs_keys.generate_key_pair()
    name = f"{stack_name}-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}"[:128]
    arn = ivs_keys.import_public_key(client, public_pem, name, {"app": stack_name})
    return private_pem, arn


def secret_prompt(getpass: Callable[[str], str]) -> Prompt:
    """A prompt that asks twice for the host password, once for everything else."""

    def ask(key: str) -> str:
        value = getpass(f"{key} (input hidden, empty to skip): ")
        if key == "HOST_PASSWORD" and value and getpass("HOST_PASSWORD again: ") != value:
            raise ConfigError("The two HOST_PASSWORD entries differ: nothing was changed")
        return value

    return ask
