"""POST /chat_token {"name"} -> a chat token; with the host session, the host's (moderator) token.

The answer says which chat provider is in use (``chat``), so the page loads only its module:
``{"chat": "off", "token": null}`` when chat is turned off. A request that carries a host
session (``session`` or ``X-Host-Session``) is the host's: a forged or expired one is a 401,
never a viewer's token. A viewer's name is required (1 to 32 characters, nothing invisible,
nothing that looks like "Host": ``text.check_display_name``); the host's defaults to "Host".
The token is issued to the connection's address (``client_address``): the ``local`` chat limits
the tokens, connections and messages of each address and refuses a banned one (403), and a
viewer asking too often is answered 429 with ``Retry-After``.

A renewing page sends the ``ticket`` its last answer carried (``chat.identity_ticket``) and keeps
its identity; a bad ticket (forged, tampered with, expired, of another role) is a 403 and no
token, never a new identity. Providers that cannot keep identities (``local``) hand out none.
"""

from livescreen.chat import HOST, VIEWER, get_chat
from livescreen.chat.identity_ticket import InvalidTicketError, grant_with_ticket, keeps_identity
from livescreen.chat.text import HOST_DISPLAY_NAME, ChatTextError, check_display_name
from livescreen.endpoints import (
    SESSION_HEADER,
    client_address,
    headers_of,
    require_host_session,
)
from livescreen.runtime.errors import BadRequestError, ForbiddenError

METHODS = ("POST",)


def handler(context, event, callback):
    chat = get_chat(context.settings)
    if chat is None:
        return callback(None, {"chat": "off", "token": None})
    is_host = event.get("session") not in (None, "") or bool(headers_of(event).get(SESSION_HEADER))
    if is_host:
        require_host_session(context, event)
    try:
        name = check_display_name(
            event.get("name", HOST_DISPLAY_NAME if is_host else None), host=is_host
        )
    except ChatTextError as exc:
        raise BadRequestError(str(exc)) from None
    try:
        grant = grant_with_ticket(
            chat,
            name=name,
            role=HOST if is_host else VIEWER,
            address=client_address(event),
            ticket=event.get("ticket"),
            secret=context.settings.require("HOST_SESSION_SECRET") if keeps_identity(chat) else "",
        )
    except InvalidTicketError as exc:
        raise ForbiddenError(str(exc)) from None
    return callback(None, grant.to_json())
