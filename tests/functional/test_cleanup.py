"""`livescreen cleanup`: finding and ending paid resources left running.

Twilio is the emulator over real HTTP (the state of record, as Twilio would be); IVS is a real
ivs-realtime client behind botocore's Stubber. Every run goes through the real command line,
settings read from a .env file, and every run's output is checked for secret values.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from ivs_support import (
    PRIVATE_PEM,
    StubbedIvs,
    ivs_settings,
    stage_arn,
    summary,
)

from livescreen.cli import main as cli
from livescreen.cli.cleanup import make_sweeper
from livescreen.config import DEFAULTS, SECRET_KEYS, Settings
from livescreen.providers.sweeping import end_all
from livescreen.providers.twilio.provider import TwilioProvider
from livescreen.runtime.twilio_client import make_twilio_client
from twilio_emulator import EmulatorServer


@dataclass
class Result:
    status: int
    out: str
    err: str


class Terminal(io.StringIO):
    """A stdin that says it is a terminal, holding what the user types."""

    def isatty(self) -> bool:
        return True


Run = Callable[..., Result]


def write_env(path: Path, settings: Mapping[str, str]) -> None:
    lines = []
    for key, value in settings.items():
        lines.append(f'{key}="{value}"'.replace("\n", "\\n"))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def run_cleanup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    """Run ``livescreen cleanup ARGS`` with ``settings`` in a .env file; check for secrets."""
    for key in DEFAULTS:
        monkeypatch.delenv(key, raising=False)

    def run(settings: Mapping[str, str], *args: str, stdin: io.StringIO | None = None) -> Result:
        env_file = tmp_path / ".env"
        write_env(env_file, settings)
        monkeypatch.setattr("sys.stdin", stdin if stdin is not None else io.StringIO(""))
        status = cli.main(["cleanup", "--env-file", str(env_file), *args])
        captured = capsys.readouterr()
        for key in SECRET_KEYS:
            value = settings.get(key)
            if value:
                assert value not in captured.out + captured.err, f"{key} was printed"
        return Result(status, captured.out, captured.err)

    return run


# -- twilio ---------------------------------------------------------------------------------


@pytest.fixture
def provider(twilio_settings: Settings) -> TwilioProvider:
    return TwilioProvider(twilio_settings, make_twilio_client(twilio_settings))


def go_live(provider: TwilioProvider) -> str:
    """What a host leaves behind when the browser dies mid-stream: room, composer, streamer."""
    room = provider.create_host_grant().room
    provider.start_stream(room)
    return room


def nothing_billing(emulator: EmulatorServer) -> bool:
    running = emulator.state.running()
    app_rooms = [name for name in running["rooms"] if name.startswith("livestream-")]
    return not running["media_processors"] and not running["player_streamers"] and not app_rooms


def test_lists_every_running_resource_and_ends_nothing_without_yes(
    run_cleanup: Run, emulator: EmulatorServer, provider: TwilioProvider, twilio_settings: Settings
) -> None:
    # GIVEN a stream left running, a PlayerStreamer created but never started, and another
    # application's room on the same account
    room = go_live(provider)
    idle = emulator.state.create_player_streamer({"MaxDuration": "600"})
    emulator.state.create_room({"UniqueName": "someone-elses-room"})
    before = emulator.state.running()

    # WHEN cleanup runs from a script (stdin is not a terminal) without --yes
    result = run_cleanup(twilio_settings)

    # THEN it lists the composer, both streamers and the app's room, and ends nothing
    assert result.status == 0
    assert "4 resources running on Twilio" in result.out
    for sid in (*before["media_processors"], *before["player_streamers"]):
        assert sid in result.out
    assert idle.sid in result.out
    assert "created" in result.out and "started" in result.out
    assert room in result.out
    assert "someone-elses-room" not in result.out
    assert "re-run with --yes" in result.out
    assert emulator.state.running() == before


def test_yes_ends_everything_the_app_left_running(
    run_cleanup: Run, emulator: EmulatorServer, provider: TwilioProvider, twilio_settings: Settings
) -> None:
    # GIVEN two abandoned streams and another application's room
    rooms = [go_live(provider), go_live(provider)]
    emulator.state.create_room({"UniqueName": "someone-elses-room"})

    # WHEN cleanup runs with --yes
    result = run_cleanup(twilio_settings, "--yes")

    # THEN nothing of the app is billing any more at Twilio, and it says what it ended
    assert result.status == 0, result.err
    assert nothing_billing(emulator)
    assert emulator.state.running()["rooms"] == ["someone-elses-room"]
    ended = [line for line in result.out.splitlines() if line.startswith("Ended ")]
    assert len(ended) == 6
    assert [line.split()[1] for line in ended] == ["MediaProcessor"] * 2 + [
        "PlayerStreamer"
    ] * 2 + ["Video"] * 2
    assert all(room in result.out for room in rooms)

    # AND a second run finds nothing left
    again = run_cleanup(twilio_settings, "--yes")
    assert again.status == 0
    assert "Nothing to clean up" in again.out


def test_composers_are_ended_before_their_streamers_and_rooms_last(
    emulator: EmulatorServer, provider: TwilioProvider, twilio_settings: Settings
) -> None:
    # GIVEN a running stream, listed in the reverse of the order it must be ended in
    go_live(provider)
    sweeper = make_sweeper("twilio", twilio_settings)
    assert sweeper is not None
    listed = list(reversed(sweeper.find().resources))

    outcome = end_all(sweeper, listed)

    assert [r.kind for r in outcome.ended] == ["MediaProcessor", "PlayerStreamer", "Video room"]
    assert nothing_billing(emulator)


def test_dry_run_lists_but_changes_nothing_even_with_yes(
    run_cleanup: Run, emulator: EmulatorServer, provider: TwilioProvider, twilio_settings: Settings
) -> None:
    room = go_live(provider)
    before = emulator.state.running()

    result = run_cleanup(twilio_settings, "--dry-run", "--yes")

    assert result.status == 0
    assert room in result.out
    assert "Dry run: nothing was ended" in result.out
    assert emulator.state.running() == before
    assert emulator.calls_to("POST", "/media/v1/MediaProcessors/{Sid}") == 0


@pytest.mark.parametrize(("answer", "ends"), [("y\n", True), ("n\n", False), ("", False)])
def test_at_a_terminal_it_asks_before_ending(
    run_cleanup: Run,
    emulator: EmulatorServer,
    provider: TwilioProvider,
    twilio_settings: Settings,
    answer: str,
    ends: bool,
) -> None:
    go_live(provider)

    result = run_cleanup(twilio_settings, stdin=Terminal(answer))

    assert result.status == 0
    assert "End these 3 resources? [y/N]" in result.out
    assert nothing_billing(emulator) is ends


def test_with_twilio_live_retired_it_still_completes_leftover_rooms(
    run_cleanup: Run, emulator: EmulatorServer, provider: TwilioProvider, twilio_settings: Settings
) -> None:
    # GIVEN Media v1 answers 404 (Twilio Live is retired) and a host's room is still open
    emulator.media_retired = True
    room = provider.create_host_grant().room

    result = run_cleanup(twilio_settings, "--yes")

    # THEN it says why there is nothing Live to end, and completes the room
    assert result.status == 0, result.err
    assert "Twilio Live is retired" in result.out
    assert room in result.out
    assert emulator.state.running()["rooms"] == []


def test_a_resource_that_cannot_be_ended_fails_the_run_but_the_rest_are_ended(
    run_cleanup: Run, emulator: EmulatorServer, provider: TwilioProvider, twilio_settings: Settings
) -> None:
    go_live(provider)
    emulator.fail_next("POST", "/media/v1/MediaProcessors/{Sid}", status=400)

    result = run_cleanup(twilio_settings, "--yes")

    assert result.status == 1
    assert "could not end MediaProcessor" in result.err
    assert "HTTP 400" in result.err
    running = emulator.state.running()
    assert len(running["media_processors"]) == 1
    assert running["player_streamers"] == [] and running["rooms"] == []


def test_bad_credentials_get_a_one_line_error(
    run_cleanup: Run, emulator: EmulatorServer, provider: TwilioProvider, twilio_settings: Settings
) -> None:
    go_live(provider)
    wrong = twilio_settings.with_values(API_KEY_SECRET="not-the-right-secret-at-all-0000")

    result = run_cleanup(wrong, "--yes")

    assert result.status == 1
    assert result.err.strip().count("\n") == 0
    assert "Twilio rejected the credentials (HTTP 401)" in result.err
    assert "API_KEY_SECRET" in result.err
    assert not nothing_billing(emulator)


def test_local_provider_has_nothing_to_clean(run_cleanup: Run) -> None:
    result = run_cleanup({"STREAM_PROVIDER": "local"}, "--yes")

    assert result.status == 0
    assert "nothing to clean up" in result.out


def test_missing_twilio_setting_is_named(run_cleanup: Run, twilio_settings: Settings) -> None:
    settings = {k: v for k, v in twilio_settings.raw.items() if k != "API_KEY_SID"}

    result = run_cleanup(settings)

    assert result.status == 2
    assert "API_KEY_SID" in result.err


# -- ivs ------------------------------------------------------------------------------------


@pytest.fixture
def ivs(monkeypatch: pytest.MonkeyPatch) -> StubbedIvs:
    stubbed = StubbedIvs.create()
    monkeypatch.setattr(
        "livescreen.providers.ivs.provider.make_client", lambda settings: stubbed.client
    )
    return stubbed


OURS_LIVE = stage_arn("Ours0000Live")
OURS_IDLE = stage_arn("Ours0000Idle")
THEIRS = stage_arn("Theirs000001")
UNTAGGED = stage_arn("Untagged0001")


def expect_mixed_stages(ivs: StubbedIvs) -> None:
    ivs.expect_list(
        summary(OURS_LIVE, "livestream-aaaa", live=True),
        summary(THEIRS, "livestream-bbbb", app="another-app"),
        next_token="page-2",
        params={"maxResults": 100},
    )
    ivs.expect_list(
        {"arn": UNTAGGED, "name": "by-hand", "tags": {}},
        summary(OURS_IDLE, "livestream-cccc"),
        params={"maxResults": 100, "nextToken": "page-2"},
    )


def deleted(ivs: StubbedIvs) -> list[str]:
    return [params["arn"] for name, params in ivs.calls if name == "DeleteStage"]


def test_ivs_deletes_only_the_apps_stages(run_cleanup: Run, ivs: StubbedIvs) -> None:
    # GIVEN our live stage, our idle stage, another app's stage and an untagged one
    expect_mixed_stages(ivs)
    ivs.expect("delete_stage", {}, {"arn": OURS_LIVE})
    ivs.expect("delete_stage", {}, {"arn": OURS_IDLE})

    result = run_cleanup(ivs_settings(), "--yes")

    assert result.status == 0, result.err
    assert "2 resources running on Amazon IVS" in result.out
    assert "live" in result.out and "idle" in result.out
    assert THEIRS not in result.out and UNTAGGED not in result.out
    assert sorted(deleted(ivs)) == sorted([OURS_LIVE, OURS_IDLE])
    ivs.stubber.assert_no_pending_responses()


def test_ivs_dry_run_deletes_nothing(run_cleanup: Run, ivs: StubbedIvs) -> None:
    expect_mixed_stages(ivs)

    result = run_cleanup(ivs_settings(), "--dry-run")

    assert result.status == 0
    assert OURS_LIVE in result.out and OURS_IDLE in result.out
    assert deleted(ivs) == []


def test_ivs_stage_already_gone_counts_as_ended_and_a_refusal_fails(
    run_cleanup: Run, ivs: StubbedIvs
) -> None:
    expect_mixed_stages(ivs)
    ivs.expect_error("delete_stage", "ResourceNotFoundException", 404)
    ivs.expect_error("delete_stage", "AccessDeniedException", 403)

    result = run_cleanup(ivs_settings(), "--yes")

    assert result.status == 1
    assert result.out.count("Ended IVS stage") == 1
    assert "could not end IVS stage" in result.err
    assert "permissions" in result.err


def test_ivs_with_nothing_running(run_cleanup: Run, ivs: StubbedIvs) -> None:
    ivs.expect_list(summary(THEIRS, "livestream-bbbb", app="another-app"))

    result = run_cleanup(ivs_settings(), "--yes")

    assert result.status == 0
    assert "Nothing to clean up: no paid Amazon IVS resources are running" in result.out
    assert deleted(ivs) == []


def test_ivs_settings_keep_the_private_key_out_of_the_output(
    run_cleanup: Run, ivs: StubbedIvs
) -> None:
    # The fixture checks every secret; this makes sure the key really was in the settings.
    expect_mixed_stages(ivs)
    settings = ivs_settings()
    assert settings["IVS_PRIVATE_KEY"] == PRIVATE_PEM

    result = run_cleanup(settings, "--dry-run")

    assert "PRIVATE KEY" not in result.out + result.err
