"""Attack 8: a viewer joins the chat under a name that passes for the host's.

Measured before the fix (``livescreen dev``): viewer names "Host", "Host" with a zero-width
space, one whose "H" is a Greek capital eta, and names holding a left-to-right mark, a byte
order mark, a word joiner (U+2060) or tag characters were all accepted, and shown beside their
messages.

Now ``/chat_token`` refuses a viewer's name that holds invisible characters, or whose confusable
skeleton (Unicode TR39), case-folded and without spaces, is the host's "Host" (400, saying why);
the host keeps its name.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dev_process import ATTACKER_ADDRESS, HOST_ADDRESS, DevProcess, chat_send, chat_token

LOOKS_LIKE_HOST = "That name looks like the host's: pick another"
INVISIBLE = "invisible characters"

ATTEMPTS = [
    ("Host", LOOKS_LIKE_HOST),
    ("host", LOOKS_LIKE_HOST),
    ("HOST", LOOKS_LIKE_HOST),
    ("H0st", LOOKS_LIKE_HOST),
    ("Ho st", LOOKS_LIKE_HOST),
    ("\u0397ost", LOOKS_LIKE_HOST),  # Greek capital eta
    ("\u041dost", LOOKS_LIKE_HOST),  # Cyrillic capital en
    ("H\u03bf\u0455t", LOOKS_LIKE_HOST),  # Greek omicron, Cyrillic dze
    ("\uff28\uff4f\uff53\uff54", LOOKS_LIKE_HOST),  # fullwidth
    ("Host\u200b", INVISIBLE),  # zero-width space
    ("\u200eHost", INVISIBLE),  # left-to-right mark
    ("Host\ufeff", INVISIBLE),  # byte order mark
    ("Ho\u2060st", INVISIBLE),  # word joiner
    ("Host\U000e0001\U000e0068\U000e007f", INVISIBLE),  # tag characters
    ("\u115f", INVISIBLE),  # Hangul choseong filler: a blank name
    ("\u3164Host", INVISIBLE),  # Hangul filler
    ("Host\ufe0f", INVISIBLE),  # a variation selector after a letter
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    """One dev server for every attempt: refused names change nothing in it."""
    dev = DevProcess.start(tmp_path_factory.mktemp("lookalike") / "app")
    yield dev
    dev.stop()


@pytest.mark.parametrize(("name", "why"), ATTEMPTS, ids=[repr(name) for name, _ in ATTEMPTS])
def test_a_name_that_passes_for_the_host_or_hides_characters_is_refused(
    server: DevProcess, name: str, why: str
) -> None:
    answer = chat_token(server, name, source=ATTACKER_ADDRESS)

    assert answer.status == 400, answer.body
    assert why in answer.json()["error"]


def test_the_host_keeps_its_name_and_ordinary_names_are_welcome(server: DevProcess) -> None:
    session = server.host_sign_in().json()["session"]
    host = chat_token(server, source=HOST_ADDRESS, session=session)
    assert (host.status, host.json()["name"]) == (200, "Host")

    for name in ("Hosts", "The host", "Zo\u00eb", "Ada \u2764\ufe0f"):
        viewer = chat_token(server, name, source=ATTACKER_ADDRESS)
        assert (viewer.status, viewer.json()["name"]) == (200, name)
    sent = chat_send(server, host.json()["token"], "Welcome", source=HOST_ADDRESS)
    assert sent.json()["message"]["sender"]["name"] == "Host"
