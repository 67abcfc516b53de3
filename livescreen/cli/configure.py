"""The ``livescreen configure`` subcommand (see :mod:`livescreen.cli.stack_parameters`)."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from livescreen.config import ConfigError

DEFAULT_STACK = "live-screen-sharing"


def register(subparsers: Any) -> None:
    """Add ``configure`` to the ``livescreen`` command's subparsers."""
    parser = subparsers.add_parser(
        "configure",
        help="store the deployed stack's secrets in SSM Parameter Store",
        description="Write the secrets of a deployed stack as SSM SecureStrings under the "
        "stack's ParameterPath. Values come from --env-file or hidden prompts; none is printed.",
    )
    parser.add_argument("--stack", default=DEFAULT_STACK, help=f"stack name ({DEFAULT_STACK})")
    parser.add_argument("--env-file", help="read secrets from this file (KEY=value lines)")
    parser.add_argument("--region", help="AWS region of the stack (default: your AWS config)")
    parser.add_argument(
        "--provider",
        choices=("ivs", "twilio"),
        help="provider to configure for (default: the stack's StreamProvider)",
    )
    parser.add_argument(
        "--no-input", action="store_true", help="never prompt; report what is missing instead"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import boto3

    from livescreen.cli.stack_parameters import configure, secret_prompt

    if args.env_file and not Path(args.env_file).is_file():
        print(f"error: --env-file {args.env_file} does not exist", file=sys.stderr)
        return 2
    session = boto3.session.Session(region_name=args.region)
    interactive = not args.no_input and sys.stdin.isatty()
    try:
        result = configure(
            ssm=session.client("ssm"),
            cloudformation=session.client("cloudformation"),
            stack_name=args.stack,
            provider=args.provider,
            env_file=Path(args.env_file) if args.env_file else None,
            prompt=secret_prompt(getpass.getpass) if interactive else None,
            ivs_client_factory=lambda: session.client("ivs-realtime"),
        )
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, EOFError):
        print("\nInterrupted: run it again to finish (stored keys are kept).", file=sys.stderr)
        return 130
    except Exception as exc:
        from botocore.exceptions import BotoCoreError, ClientError

        from livescreen.errors import ProviderError

        if not isinstance(exc, BotoCoreError | ClientError | ProviderError):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in result.report():
        print(line)
    return 1 if result.missing else 0
