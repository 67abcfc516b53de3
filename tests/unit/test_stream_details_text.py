"""What the host may set as a stream's title, description and planned start."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from livescreen.store.details import DetailsError, check_details

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC).timestamp()


def test_details_are_kept_trimmed_with_the_time_they_were_set() -> None:
    details = check_details("  Friday build  ", " Line one\r\nLine two \n", None, now=NOW)
    assert (details.title, details.description) == ("Friday build", "Line one\nLine two")
    assert (details.planned_start, details.updated_at) == (None, NOW)


@pytest.mark.parametrize("description", [None, ""])
def test_the_description_may_be_left_out(description: object) -> None:
    assert check_details("Title", description, "", now=NOW).description == ""


def test_lengths_count_characters_not_bytes() -> None:
    # 100 emoji (400 bytes in UTF-8) are a title of 100 characters; 500 accented letters a
    # description of 500
    assert check_details("😀" * 100, "é" * 500, None, now=NOW).title == "😀" * 100
    with pytest.raises(DetailsError, match="title is longer than 100"):
        check_details("😀" * 101, "", None, now=NOW)
    with pytest.raises(DetailsError, match="description is longer than 500"):
        check_details("Title", "é" * 501, None, now=NOW)


@pytest.mark.parametrize("title", ["", "   ", None, 42])
def test_a_title_is_required(title: object) -> None:
    with pytest.raises(DetailsError, match=r"Give the stream a title \(1 to 100 characters\)"):
        check_details(title, "", None, now=NOW)


def test_the_description_must_be_text() -> None:
    with pytest.raises(DetailsError, match="description must be text"):
        check_details("Title", ["a"], None, now=NOW)


@pytest.mark.parametrize(
    "title", ["Line\nbreak", "Tab\there", "Bell\x07", "Right\u202eto left", "Para\u2029graph"]
)
def test_a_title_cannot_hold_control_characters_or_line_breaks(title: str) -> None:
    with pytest.raises(DetailsError, match="The title cannot contain control characters"):
        check_details(title, "", None, now=NOW)


@pytest.mark.parametrize("description", ["Tab\there", "Right\u202eto left", "NUL\x00"])
def test_a_description_has_line_breaks_but_no_other_controls(description: str) -> None:
    with pytest.raises(DetailsError, match="The description cannot contain control characters"):
        check_details("Title", description, None, now=NOW)


@pytest.mark.parametrize(
    "text", ["Zero\u200bwidth", "Word\u2060joiner", "Filler\u3164", "Tag\U000e0041", "\u2800"]
)
def test_invisible_characters_are_refused_in_both(text: str) -> None:
    with pytest.raises(DetailsError, match="The title cannot contain invisible characters"):
        check_details(text, "", None, now=NOW)
    with pytest.raises(DetailsError, match="The description cannot contain invisible"):
        check_details("Title", text, None, now=NOW)


def test_emoji_sequences_and_real_scripts_are_not_invisible() -> None:
    # a text/emoji variation selector, an emoji ZWJ sequence, a Persian ZWNJ, a virama ZWJ
    title = (
        "\u2764\ufe0f \U0001f469\u200d\U0001f4bb "
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \u0915\u094d\u200d\u0937"
    )
    assert check_details(title, title, None, now=NOW).title == title


@pytest.mark.parametrize(
    ("planned", "expected"),
    [
        ("2026-12-24T18:00:00+01:00", datetime(2026, 12, 24, 17, 0, tzinfo=UTC)),
        ("2026-12-24T17:00:00Z", datetime(2026, 12, 24, 17, 0, tzinfo=UTC)),
        ("2026-12-25T06:00:00+13:45", datetime(2026, 12, 24, 16, 15, tzinfo=UTC)),
        ("2026-12-07T08:59:30+00:00", datetime(2026, 12, 7, 8, 59, 30, tzinfo=UTC)),  # skew
    ],
)
def test_a_planned_start_is_read_with_its_offset(planned: str, expected: datetime) -> None:
    details = check_details("Title", "", planned, now=NOW)
    assert details.planned_start == expected.timestamp()


def test_a_planned_start_without_a_time_zone_is_refused() -> None:
    with pytest.raises(DetailsError, match="needs its time zone offset"):
        check_details("Title", "", "2026-12-24T18:00:00", now=NOW)


@pytest.mark.parametrize("planned", ["tomorrow", "2026-13-01T00:00:00Z", 1800000000, "x" * 200])
def test_a_planned_start_that_is_not_a_time_is_refused(planned: object) -> None:
    with pytest.raises(DetailsError, match="planned start"):
        check_details("Title", "", planned, now=NOW)


def test_a_planned_start_in_the_past_is_refused() -> None:
    with pytest.raises(DetailsError, match="in the past"):
        check_details("Title", "", "2026-12-07T08:58:59Z", now=NOW)


def test_a_planned_start_more_than_a_year_ahead_is_refused() -> None:
    assert check_details("Title", "", "2027-12-07T09:00:00Z", now=NOW).planned_start is not None
    with pytest.raises(DetailsError, match="more than 365 days ahead"):
        check_details("Title", "", "2027-12-07T09:00:01Z", now=NOW)
