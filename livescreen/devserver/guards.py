"""What the dev server checks and adds on every answer: the Host it is asked for, and the
security headers the stack's CloudFront sends.

**Host.** A page on another site can point its own name at 127.0.0.1 (DNS rebinding) and then
drive a local server as if it were that site. Its requests carry the page's name in ``Host``,
so only names this server is reached by are accepted: ``localhost``, ``127.0.0.1``, ``[::1]``,
the address the connection arrived on (the bind address; with ``--host 0.0.0.0``, whichever of
the machine's addresses a LAN viewer used), and the names listed in ``DEV_ALLOWED_HOSTS``
(comma-separated; a tunnel's or a proxy's name). The port is not compared: a port forward
(``docker -p 8080:3000``) changes it, and a rebinding page cannot choose the name. Anything else
is answered 421 (a WebSocket handshake too) and nothing runs.

**Headers.** The values of template.yaml's ``ResponseHeadersPolicy`` resources (a test checks
they are the same): the CSP (with ``frame-ancestors 'none'``), ``X-Content-Type-Options``,
``X-Frame-Options``, ``Referrer-Policy`` and ``Permissions-Policy``, with the host page's and
the recordings page's own variants, as CloudFront picks them by path. ``embed.html`` (the player
alone, for other sites' ``<iframe>``) gets the audience page's headers but ``frame-ancestors``
lists the origins in ``EMBED_ORIGINS`` (``'none'`` when empty, as everywhere else) and there is
no ``X-Frame-Options`` (its DENY would refuse every frame). They replace any header
of the same name the answer had (CloudFront's ``Override: true``). Strict-Transport-Security is
left out: the dev server speaks plain HTTP, where browsers ignore it.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
from collections.abc import Callable
from functools import lru_cache

from livescreen.config import ConfigError, Settings
from livescreen.devserver.asgi import Message, Receive, Scope, Send
from livescreen.security import embed_origins

logger = logging.getLogger("livescreen.devserver")

RawHeaders = list[tuple[bytes, bytes]]

ALLOWED_HOSTS_SETTING = "DEV_ALLOWED_HOSTS"
#: Names every dev server answers to.
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

# -- the stack's response headers policies (template.yaml) -------------------------------------

#: AudiencePageHeaders and HostPageHeaders; ``{region}`` is ``${AWS::Region}``,
#: ``{twilio_eval}`` is ``" 'unsafe-eval'"`` with the twilio provider (twilio-video needs it).
PAGE_CSP = (
    "default-src 'self'; "
    "script-src 'self' 'wasm-unsafe-eval'{twilio_eval}; "
    "worker-src 'self' blob:; "
    "connect-src 'self' https://*.twilio.com wss://*.twilio.com https://*.live-video.net "
    "wss://*.live-video.net wss://edge.ivschat.{region}.amazonaws.com; "
    "media-src 'self' blob:; "
    "img-src 'self' data: blob:; "
    "style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; "
    "object-src 'none'; "
    "base-uri 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)
#: EmbedPageHeaders: the audience page's, with ``{frame_ancestors}`` from ``EMBED_ORIGINS``.
EMBED_CSP = PAGE_CSP.removesuffix("frame-ancestors 'none'") + "frame-ancestors {frame_ancestors}"
#: RecordingsPageHeaders; ``{twilio_media}`` is ``" https:"`` with Recording=on and twilio.
RECORDINGS_CSP = (
    "default-src 'self'; "
    "script-src 'self'; "
    "worker-src 'self' blob:; "
    "connect-src 'self'; "
    "media-src 'self' blob:{twilio_media}; "
    "img-src 'self' data: blob:; "
    "style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; "
    "object-src 'none'; "
    "base-uri 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)
CONTENT_TYPE_OPTIONS = "nosniff"
FRAME_OPTIONS = "DENY"
REFERRER_POLICY = "strict-origin-when-cross-origin"
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), display-capture=(), geolocation=(), payment=(), usb=()"
)
HOST_PAGE_PERMISSIONS_POLICY = (
    "camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=()"
)
#: The paths CloudFront gives their own policy (its cache behaviours); the rest get the audience's.
HOST_PAGE = "/host.html"
RECORDINGS_PAGE = "/recordings.html"
EMBED_PAGE = "/embed.html"
#: The region written into the CSP when the settings name none (IVS Chat is then not in use).
DEFAULT_REGION = "us-east-1"

_CHAT_ROOM_REGION = re.compile(r"arn:aws:ivschat:([a-z0-9-]+):")
_REGION = re.compile(r"[a-z0-9-]{1,32}")


def _region(settings: Settings | None) -> str:
    """The region the stack would run in: the chat room's, else IVS_REGION's."""
    if settings is None:
        return DEFAULT_REGION
    match = _CHAT_ROOM_REGION.match((settings.get("IVS_CHAT_ROOM_ARN") or "").strip())
    region = match.group(1) if match else (settings.get("IVS_REGION") or "").strip().lower()
    return region if _REGION.fullmatch(region) else DEFAULT_REGION


def _twilio(settings: Settings | None) -> bool:
    if settings is None:
        return False
    try:
        return settings.provider == "twilio"
    except ConfigError:
        return False


def _frame_ancestors(settings: Settings | None) -> str:
    """``EMBED_ORIGINS`` as ``frame-ancestors`` sources; ``'none'`` when it is bad (the dev
    server refuses to start with a bad value: this is for settings changed since)."""
    if settings is None:
        return embed_origins.NONE
    try:
        return embed_origins.frame_ancestors(embed_origins.embed_origins(settings))
    except ConfigError:
        return embed_origins.NONE


def _twilio_recording(settings: Settings | None) -> bool:
    try:
        return _twilio(settings) and settings is not None and settings.get_flag("RECORDING")
    except ConfigError:
        return False


@lru_cache(maxsize=64)
def _headers(
    page: str, region: str, twilio: bool, twilio_media: bool, frame_ancestors: str
) -> tuple[tuple[bytes, bytes], ...]:
    twilio_eval = " 'unsafe-eval'" if twilio else ""
    if page == RECORDINGS_PAGE:
        csp = RECORDINGS_CSP.format(twilio_media=" https:" if twilio_media else "")
    elif page == EMBED_PAGE:
        csp = EMBED_CSP.format(
            region=region, twilio_eval=twilio_eval, frame_ancestors=frame_ancestors
        )
    else:
        csp = PAGE_CSP.format(region=region, twilio_eval=twilio_eval)
    permissions = HOST_PAGE_PERMISSIONS_POLICY if page == HOST_PAGE else PERMISSIONS_POLICY
    pairs = [
        ("content-security-policy", csp),
        ("x-content-type-options", CONTENT_TYPE_OPTIONS),
        ("x-frame-options", FRAME_OPTIONS),
        ("referrer-policy", REFERRER_POLICY),
        ("permissions-policy", permissions),
    ]
    if page == EMBED_PAGE:
        pairs = [(name, value) for name, value in pairs if name != "x-frame-options"]
    return tuple((name.encode("latin-1"), value.encode("latin-1")) for name, value in pairs)


def security_headers(path: str, settings: Settings | None = None) -> RawHeaders:
    """The headers CloudFront would add to the answer for ``path``."""
    page = path if path in (HOST_PAGE, RECORDINGS_PAGE, EMBED_PAGE) else "/"
    ancestors = _frame_ancestors(settings) if page == EMBED_PAGE else embed_origins.NONE
    return list(
        _headers(
            page,
            _region(settings),
            _twilio(settings),
            _twilio_recording(settings),
            ancestors,
        )
    )


_SECURITY_HEADER_NAMES = frozenset(name for name, _ in security_headers("/"))
_STARTS = ("http.response.start", "websocket.http.response.start")


def with_security_headers(send: Send, scope: Scope, settings: Callable[[], Settings]) -> Send:
    """``send``, adding the security headers to the start of every answer."""
    path = str(scope.get("path", "/"))

    async def send_with_headers(message: Message) -> None:
        if message.get("type") in _STARTS:
            kept = [
                (k, v)
                for k, v in message.get("headers", [])
                if bytes(k).lower() not in _SECURITY_HEADER_NAMES
            ]
            message = {**message, "headers": [*kept, *security_headers(path, settings())]}
        await send(message)

    return send_with_headers


# -- Host ---------------------------------------------------------------------------------------


def host_name(value: str) -> str | None:
    """The name in a ``Host`` value (``name``, ``name:port``, ``[v6]:port``), lower case, IP
    addresses in their canonical form; None when it is not a host at all."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        name, rest = value[1:end], value[end + 1 :]
        if end < 0 or (rest and not (rest[:1] == ":" and rest[1:].isdigit())):
            return None
    else:
        name, colon, port = value.partition(":")
        if colon and not port.isdigit():
            return None
    name = name.removesuffix(".")
    if not name or any(c in name for c in " \t/\\@?#%"):
        return None
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return name
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


@lru_cache(maxsize=16)
def allowed_names(setting: str) -> frozenset[str]:
    """The names ``DEV_ALLOWED_HOSTS`` adds (``setting`` is its raw value)."""
    names = (host_name(item) for item in setting.split(","))
    return frozenset(name for name in names if name)


def host_allowed(scope: Scope, settings: Settings) -> bool | None:
    """True for a Host this server serves, False for another, None when there is no single
    Host header (an HTTP/1.0 request may leave it out)."""
    values = [v for k, v in scope.get("headers", []) if k == b"host"]
    if len(values) != 1:
        return True if not values and scope.get("http_version") == "1.0" else None
    name = host_name(values[0].decode("latin-1"))
    if name is None:
        return False
    if name in LOOPBACK_NAMES or name in allowed_names(settings.get(ALLOWED_HOSTS_SETTING) or ""):
        return True
    server = scope.get("server")
    return server is not None and host_name(str(server[0])) == name


def _refusal(status: int, message: str, path: str, settings: Settings) -> tuple[RawHeaders, bytes]:
    body = json.dumps({"error": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *security_headers(path, settings),
    ]
    return headers, body


async def refuse_host(scope: Scope, receive: Receive, send: Send, settings: Settings) -> None:
    """Answer a request (or refuse a WebSocket handshake) whose Host is not served here."""
    raw = [v for k, v in scope.get("headers", []) if k == b"host"]
    shown = raw[0].decode("latin-1")[:200] if len(raw) == 1 else ""
    if len(raw) != 1:
        status, message = 400, "The request needs exactly one Host header"
    else:
        status = 421
        message = (
            f"This dev server does not serve the host {shown!r}: it answers to localhost, "
            f"127.0.0.1, [::1] and its own address. Add the name to {ALLOWED_HOSTS_SETTING} "
            "(comma-separated) in .env to allow it."
        )
    logger.warning("refused a request for host %r (%s)", shown, ALLOWED_HOSTS_SETTING)
    headers, body = _refusal(status, message, str(scope.get("path", "/")), settings)
    if scope["type"] == "websocket":
        if (await receive()).get("type") != "websocket.connect":
            return
        if "websocket.http.response" not in scope.get("extensions", {}):
            await send({"type": "websocket.close", "code": 1008})  # the server answers 403
            return
        kind = "websocket.http.response"
    else:
        kind = "http.response"
    await send({"type": f"{kind}.start", "status": status, "headers": headers})
    await send({"type": f"{kind}.body", "body": body, "more_body": False})


async def guard(
    scope: Scope, receive: Receive, send: Send, settings: Callable[[], Settings]
) -> Send | None:
    """The Host check, then ``send`` with the security headers; None when the request (or the
    WebSocket handshake) has been refused and nothing else should run."""
    current = settings()
    if scope["type"] in ("http", "websocket") and not host_allowed(scope, current):
        await refuse_host(scope, receive, send, current)
        return None
    return with_security_headers(send, scope, settings)
