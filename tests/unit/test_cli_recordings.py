"""`livescreen recordings`: the settings options are understood before or after `delete ID`."""

import pytest

from livescreen.cli.main import build_parser


@pytest.mark.parametrize(
    "argv",
    [
        ["recordings", "--env-file", "prod.env", "--provider", "ivs", "delete", "abc"],
        ["recordings", "delete", "abc", "--env-file", "prod.env", "--provider", "ivs"],
    ],
)
def test_delete_takes_the_settings_options_before_or_after_the_id(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)

    assert (args.action, args.id, args.env_file, args.provider) == (
        "delete",
        "abc",
        "prod.env",
        "ivs",
    )


def test_the_list_defaults_to_dot_env_and_the_configured_provider() -> None:
    args = build_parser().parse_args(["recordings", "delete", "abc"])

    assert (args.env_file, args.provider, args.json) == (".env", None, False)
