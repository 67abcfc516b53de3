"""``livescreen dev``: the pages and the functions on http://localhost:3000 (never on Lambda).

``server`` runs ``app`` on uvicorn with the connection protocols in ``http_protocol`` and
``websocket_protocol``. This package imports uvicorn, which is not in the Lambda layer, so the
Lambda packages leave it out (sam/Makefile).
"""

from livescreen.devserver.replies import MAX_REQUEST_BODY
from livescreen.devserver.server import PROJECT_ROOT, DevServer, list_assets

__all__ = ["MAX_REQUEST_BODY", "PROJECT_ROOT", "DevServer", "list_assets"]
