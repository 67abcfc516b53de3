"""``X-Twilio-Signature`` validation for "protected" functions (Twilio webhooks)."""

from __future__ import annotations

from livescreen.config import Settings
from livescreen.runtime.request import HttpRequest


def public_url(request: HttpRequest) -> str:
    """The URL Twilio signed: the public https URL of this function, with its query string."""
    host = request.headers.get("x-forwarded-host") or request.headers.get("host") or ""
    host = host or request.domain_name
    proto = request.headers.get("x-forwarded-proto", "https").split(",")[0].strip()
    url = f"{proto}://{host}{request.path}"
    return f"{url}?{request.raw_query}" if request.raw_query else url


def validate_request(request: HttpRequest, settings: Settings) -> bool:
    signature = request.headers.get("x-twilio-signature", "")
    auth_token = settings.get("AUTH_TOKEN", "")
    if not signature or not auth_token:
        return False
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(auth_token)
    url = public_url(request)
    body: str | dict[str, str]
    if "bodySHA256" in url:
        body = request.body.decode("utf-8", "replace")
    else:
        from urllib.parse import parse_qsl

        body = {}
        if request.content_type == "application/x-www-form-urlencoded":
            text = request.body.decode("utf-8", "replace")
            body = dict(parse_qsl(text, keep_blank_values=True))
    try:
        return bool(validator.validate(url, body, signature))
    except ValueError:
        # A Host (or X-Forwarded-Host) that is not a host, such as "[" or "example.com:port",
        # makes the URL unparseable: no signature can match it.
        return False
