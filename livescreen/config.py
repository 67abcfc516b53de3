"""Settings: from the process environment and ``.env`` locally, from SSM Parameter Store on Lambda.

Every setting is a plain string keyed by an upper-case name, exactly as a Twilio Functions
``context`` exposes them. Typed accessors (``get_int``, ``require``) fail loudly, naming the key
and where it was looked for.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROVIDERS = ("local", "twilio", "ivs")

#: Every setting the app knows, with its default (None: no default). ``.env.example`` lists them.
DEFAULTS: dict[str, str | None] = {
    "STREAM_PROVIDER": "local",
    "HOST_PASSWORD": None,
    "HOST_SESSION_SECRET": None,
    "HOST_SESSION_TTL": "14400",
    "HOST_IDENTITY": "host",
    "ACCOUNT_SID": None,
    "AUTH_TOKEN": None,
    "API_KEY_SID": None,
    "API_KEY_SECRET": None,
    "TWILIO_API_BASE_URL": None,
    "PUBLIC_API_URL": None,
    "ROOM_TYPE": "group",
    "TWILIO_AUDIENCE": "video",
    "TWILIO_MAX_VIEWERS": "49",
    "MAX_DURATION": "14400",
    "HOST_TOKEN_TTL": "14400",
    "PLAYBACK_GRANT_TTL": "60",
    "LIVE_LOOKUP_TTL": "5",
    "UPSTREAM_TIMEOUT": "4",
    "IVS_REGION": None,
    "IVS_PRIVATE_KEY": None,
    "IVS_PUBLIC_KEY_ARN": None,
    "APP_TAG": "live-screen-sharing",
    "CHAT_PROVIDER": "local",
    "IVS_CHAT_ROOM_ARN": None,
    "CHAT_SESSION_MINUTES": "60",
    "RECORDING": "on",
    "RECORDINGS_PUBLIC": "false",
    "MAX_RECORDING_MB": "500",
    "MAX_RECORDINGS_TOTAL_MB": "2048",
    "RECORDINGS_DIR": "recordings",
    "RECORDINGS_BUCKET": None,
    "RECORDINGS_URL": "/recordings",
    "IVS_STORAGE_CONFIGURATION_ARN": None,
    "PARAMETER_PATH": None,
    "PARAMETER_MAX_AGE": "60",
    "DEV_ALLOWED_HOSTS": None,
    "STREAM_STORE": "sqlite",
    "STREAMS_DB": "streams.db",
    "STREAMS_TABLE": None,
    "STREAMS_RETENTION_DAYS": "30",
    "EMBED_ORIGINS": None,
}

#: Settings whose values are secrets: never logged, never printed.
SECRET_KEYS = frozenset(
    {"HOST_PASSWORD", "HOST_SESSION_SECRET", "AUTH_TOKEN", "API_KEY_SECRET", "IVS_PRIVATE_KEY"}
)

#: What each provider needs beyond the host password and session secret.
PROVIDER_REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "local": (),
    "twilio": ("ACCOUNT_SID", "AUTH_TOKEN", "API_KEY_SID", "API_KEY_SECRET"),
    "ivs": ("IVS_PRIVATE_KEY", "IVS_PUBLIC_KEY_ARN"),
}


#: Host sessions are HMAC-signed with HOST_SESSION_SECRET; shorter keys are refused.
MIN_SESSION_SECRET_LENGTH = 32


class ConfigError(Exception):
    """A setting is missing or malformed. The message names the key and where it was looked for."""


class SettingsUnavailableError(ConfigError):
    """The settings store could not be read just now (SSM unreachable, slow or throttling).

    Unlike other configuration errors this one passes: the caller gets a 503 with this
    message, and the next request reads the store again (a failed read is never cached).
    """


#: What a caller is told while SSM Parameter Store cannot be read; the log has the detail.
SETTINGS_UNAVAILABLE = (
    "The service cannot read its settings right now (AWS Systems Manager Parameter Store did "
    "not answer); try again in a few seconds"
)

#: AWS error codes that say the function may not read its parameters: a deployment mistake.
_DENIED = frozenset({"AccessDeniedException", "AccessDenied", "UnrecognizedClientException"})


def running_on_lambda() -> bool:
    return "AWS_LAMBDA_FUNCTION_NAME" in os.environ


def parse_dotenv(text: str) -> dict[str, str]:
    """Parse ``KEY=value`` lines; ``#`` comments, ``export`` prefixes and quotes are understood."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1].replace("\\n", "\n") if value[0] == '"' else value[1:-1]
        values[key.strip()] = value
    return values


@dataclass(frozen=True, repr=False)
class Settings(Mapping[str, str]):
    """An immutable view of every setting, with the place each came from for error messages."""

    raw: Mapping[str, str]
    source: str = "the environment"
    _defaults: Mapping[str, str | None] = field(default_factory=lambda: DEFAULTS)

    def __getitem__(self, key: str) -> str:
        if key in self.raw and self.raw[key] != "":
            return self.raw[key]
        default = self._defaults.get(key)
        if default is None:
            raise KeyError(key)
        return default

    def __iter__(self) -> Iterator[str]:
        keys = dict.fromkeys(k for k, v in self._defaults.items() if v is not None)
        keys.update(dict.fromkeys(k for k, v in self.raw.items() if v != ""))
        return iter(keys)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        shown = {k: ("***" if k in SECRET_KEYS else v) for k, v in self.raw.items()}
        return f"Settings({shown!r}, source={self.source!r})"

    def require(self, key: str) -> str:
        try:
            return self[key]
        except KeyError:
            raise ConfigError(
                f"Missing required setting {key}: set it in {self.source}"
                + (" (see .env.example)" if not running_on_lambda() else "")
            ) from None

    def get_flag(self, key: str) -> bool:
        """A yes/no setting: ``on``/``true``/``yes``/``1`` or ``off``/``false``/``no``/``0``."""
        raw = self.require(key).strip().lower()
        if raw in ("on", "true", "yes", "1"):
            return True
        if raw in ("off", "false", "no", "0"):
            return False
        raise ConfigError(f"Setting {key} must be on or off (true or false), got {raw!r}")

    def get_int(self, key: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
        raw = self.require(key)
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"Setting {key} must be a whole number, got {raw!r}") from None
        if minimum is not None and value < minimum:
            raise ConfigError(f"Setting {key} must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise ConfigError(f"Setting {key} must be at most {maximum}, got {value}")
        return value

    @property
    def provider(self) -> str:
        name = self["STREAM_PROVIDER"].strip().lower()
        if name not in PROVIDERS:
            raise ConfigError(
                f"Setting STREAM_PROVIDER must be one of {', '.join(PROVIDERS)}, got {name!r}"
            )
        return name

    def missing_for(self, provider: str) -> list[str]:
        """The required keys for ``provider`` that have no value."""
        needed = ("HOST_PASSWORD", "HOST_SESSION_SECRET", *PROVIDER_REQUIREMENTS[provider])
        return [key for key in needed if key not in self]

    def check(self) -> None:
        """Fail at start-up, naming every missing key, rather than on the first request."""
        missing = self.missing_for(self.provider)
        if missing:
            raise ConfigError(
                f"Missing required setting{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} for the {self.provider!r} provider: set "
                f"{'them' if len(missing) > 1 else 'it'} in {self.source}"
            )
        self.check_secret_strength()

    def check_secret_strength(self) -> None:
        secret = self.get("HOST_SESSION_SECRET", "")
        if secret and len(secret) < MIN_SESSION_SECRET_LENGTH:
            raise ConfigError(
                f"Setting HOST_SESSION_SECRET must be at least {MIN_SESSION_SECRET_LENGTH} "
                f"characters (it signs host sessions), got {len(secret)}: set a longer random "
                f"value in {self.source}"
            )

    def with_values(self, **overrides: str) -> Settings:
        return Settings({**self.raw, **overrides}, self.source, self._defaults)


def load_local(env_file: str | os.PathLike[str] | None = ".env") -> Settings:
    """Settings for the dev server and the CLI: ``.env`` first, the process environment wins."""
    values: dict[str, str] = {}
    source = "the environment"
    if env_file is not None:
        path = Path(env_file)
        if path.is_file():
            values.update(parse_dotenv(path.read_text(encoding="utf-8")))
            source = f"{path} or the environment"
    values.update({k: v for k, v in os.environ.items() if k in DEFAULTS})
    return Settings(values, source)


def load_lambda() -> Settings:
    """Settings on Lambda: plain ones from the function's environment, secrets from SSM.

    ``PARAMETER_PATH`` (set by the template) names an SSM path such as
    ``/live-screen-sharing/prod``; every parameter below it becomes a setting named after its
    last path segment. Powertools caches them for ``PARAMETER_MAX_AGE`` seconds.
    """
    values = {k: v for k, v in os.environ.items() if k in DEFAULTS}
    path = values.get("PARAMETER_PATH")
    if not path:
        raise ConfigError(
            "Missing required setting PARAMETER_PATH: the function's environment must name the "
            "SSM path that holds the secrets (template.yaml sets it)"
        )
    from aws_lambda_powertools.utilities import parameters

    max_age = int(values.get("PARAMETER_MAX_AGE") or DEFAULTS["PARAMETER_MAX_AGE"] or 60)
    try:
        stored = parameters.get_parameters(path, decrypt=True, max_age=max_age, recursive=False)
    except parameters.exceptions.GetParameterError as exc:
        # Powertools wraps the botocore error; the original is the exception's context.
        cause = exc.__cause__ or exc.__context__
        code = str((getattr(cause, "response", None) or {}).get("Error", {}).get("Code", ""))
        if code in _DENIED:
            raise ConfigError(
                f"The function may not read the SSM parameters under {path} ({code}): give its "
                "role ssm:GetParametersByPath on that path and kms:Decrypt"
            ) from exc
        raise SettingsUnavailableError(
            f"Could not read the settings under {path} from SSM Parameter Store: "
            f"{type(cause or exc).__name__}{f' ({code})' if code else ''}"
        ) from exc
    for name, value in stored.items():
        key = name.rsplit("/", 1)[-1]
        if key in DEFAULTS and isinstance(value, str):
            values[key] = value
    return Settings(values, f"SSM Parameter Store under {path} or the function's environment")


def load() -> Settings:
    return load_lambda() if running_on_lambda() else load_local()
