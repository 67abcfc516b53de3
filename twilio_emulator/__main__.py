"""``python -m twilio_emulator --port 4010``: serve the emulator until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import sys

from twilio_emulator.credentials import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_API_KEY_SECRET,
    DEFAULT_API_KEY_SID,
    DEFAULT_AUTH_TOKEN,
)
from twilio_emulator.server import EmulatorServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m twilio_emulator",
        description="Serve a stateful emulator of Twilio Video rooms and Media v1 on 127.0.0.1.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4010)
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    parser.add_argument("--api-key-sid", default=DEFAULT_API_KEY_SID)
    parser.add_argument("--api-key-secret", default=DEFAULT_API_KEY_SECRET)
    parser.add_argument(
        "--media-retired", action="store_true", help="answer Media v1 with 404, like Twilio today"
    )
    parser.add_argument(
        "--new-account", action="store_true", help="refuse 'go' rooms with error 53126"
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay added to each call")
    parser.add_argument(
        "--tick",
        type=float,
        default=1.0,
        help="seconds between checks of room timeouts and MaxParticipantDuration",
    )
    args = parser.parse_args(argv)
    server = EmulatorServer(
        host=args.host,
        port=args.port,
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        api_keys={args.api_key_sid: args.api_key_secret},
        media_retired=args.media_retired,
        new_account=args.new_account,
        latency=args.latency_ms / 1000,
        tick_interval=args.tick,
    )
    print(
        f"Twilio emulator on {server.base_url} (account {args.account_sid}); "
        f"set TWILIO_API_BASE_URL={server.base_url}",
        file=sys.stderr,
    )
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
