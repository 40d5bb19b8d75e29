"""The calendar (iCalendar export) file connector."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meritline.errors import InvalidInput
from meritline.evidence.connectors.calendar_ics import CalendarIcsConnector, daily_load
from meritline.evidence.connectors.files import FileRecord, first_line
from meritline.evidence.signals import ExternalAccount, RejectedRow, SignalDraft

FIXTURES = Path(__file__).parent / "fixtures" / "calendar"
BERLIN_ICS = FIXTURES / "berlin.ics"
PERSONAL_ICS = FIXTURES / "personal.ics"
BERLIN = ZoneInfo("Europe/Berlin")
ANN = ExternalAccount("email", "ann.schmidt@example.com")
#: The Monday of the weekly standup's first occurrence to the Monday of its last (excluded).
WINDOW = {"start": date(2024, 3, 18), "end": date(2024, 4, 8)}

#: Ann's meeting load in Berlin, per day: (meeting hours, after hours, weekend hours).
ANN_IN_BERLIN = {
    "2024-03-18": (0.25, 0.0, 0.0),  # standup (Monday 09:00-09:15)
    "2024-03-19": (2.0, 0.0, 0.0),  # 10:00-11:00 and 10:30-12:00: double-booked, merged
    "2024-03-20": (1.5, 1.5, 0.0),  # 19:00-20:30
    "2024-03-21": (1.0, 0.5, 0.0),  # 17:30-18:30; the 14:00 meeting is declined
    # 2024-03-22: cancelled, all-day and free (transparent) events only
    "2024-03-23": (1.0, 0.0, 1.0),  # Saturday 10:00-11:00 (tentative)
    # 2024-03-25: the standup is an EXDATE; a meeting Ann is not in
    "2024-03-26": (1.0, 1.0, 0.0),  # 23:00 -> 01:00: split at midnight
    "2024-03-27": (1.0, 1.0, 0.0),
    # 2024-03-28 and 29: a timed out-of-office block, not a meeting
    "2024-03-31": (1.0, 0.0, 1.0),  # 01:30-03:30 across the DST change: one hour elapsed
    "2024-04-01": (0.25, 0.0, 0.0),  # standup: still 09:00 local after the DST change
    # 2024-04-08: the last standup is outside the window
}


def read(path: Path = BERLIN_ICS, **options: object) -> list[FileRecord]:
    return list(CalendarIcsConnector(**{**WINDOW, **options}).read(path))


def signals(records: list[FileRecord]) -> list[SignalDraft]:
    return [record for record in records if isinstance(record, SignalDraft)]


def load_by_day(records: list[FileRecord]) -> dict[str, tuple[float, float, float]]:
    """Per day: (meeting_hours, after_hours_meeting_hours, weekend_meeting_hours), 0 if absent."""
    values: dict[str, dict[str, float]] = {}
    for signal in signals(records):
        values.setdefault(signal.attributes["date"], {})[signal.type] = signal.value
    return {
        day: (
            kinds["meeting_hours"],
            kinds.get("after_hours_meeting_hours", 0.0),
            kinds.get("weekend_meeting_hours", 0.0),
        )
        for day, kinds in values.items()
    }


def write_calendar(tmp_path: Path, *events: str, header: str = "") -> Path:
    body = "".join(f"BEGIN:VEVENT\n{event.strip()}\nEND:VEVENT\n" for event in events)
    path = tmp_path / "export.ics"
    path.write_text(
        f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n{header}{body}END:VCALENDAR\n"
    )
    return path


def test_recognises_ics_files_by_suffix_or_first_line(tmp_path: Path) -> None:
    assert CalendarIcsConnector.recognises(BERLIN_ICS, first_line(BERLIN_ICS))
    exported = tmp_path / "calendar.txt"
    exported.write_text("\ufeffBEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")
    assert CalendarIcsConnector.recognises(exported, first_line(exported))
    assert CalendarIcsConnector.recognises(tmp_path / "Ann.ICS", "")
    assert not CalendarIcsConnector.recognises(tmp_path / "people.csv", "email,name")


def test_meeting_load_per_local_day() -> None:
    records = read()
    assert load_by_day(records) == ANN_IN_BERLIN
    assert {signal.account for signal in signals(records)} == {ANN}
    assert {signal.source for signal in signals(records)} == {"calendar"}


def test_after_hours_and_weekend_signals_are_emitted_only_when_positive() -> None:
    kinds = {(s.attributes["date"], s.type) for s in signals(read())}
    assert ("2024-03-19", "after_hours_meeting_hours") not in kinds
    assert ("2024-03-19", "weekend_meeting_hours") not in kinds
    assert ("2024-03-20", "after_hours_meeting_hours") in kinds
    assert ("2024-03-23", "weekend_meeting_hours") in kinds
    # weekend time is not after-hours time as well: the loads never overlap
    assert ("2024-03-23", "after_hours_meeting_hours") not in kinds


def test_attributes_and_occurred_at_are_the_local_day() -> None:
    by_id = {signal.external_id: signal for signal in signals(read())}
    double_booked = by_id["calendar:ann.schmidt@example.com:2024-03-19:meeting_hours"]
    assert double_booked.attributes == {
        "date": "2024-03-19",
        "meetings": 2,
        "time_zone": "Europe/Berlin",
    }
    assert double_booked.occurred_at == datetime(2024, 3, 18, 23, 0, tzinfo=UTC)
    after_dst = by_id["calendar:ann.schmidt@example.com:2024-04-01:meeting_hours"]
    assert after_dst.occurred_at == datetime(2024, 3, 31, 22, 0, tzinfo=UTC)
    assert after_dst.attributes["meetings"] == 1


def test_a_recurring_meeting_keeps_its_local_time_across_the_dst_change() -> None:
    # Working hours of exactly the standup's slot: were an occurrence an hour off in local
    # time (recurring in UTC), part of it would be after hours.
    records = read(work_start=time(9, 0), work_end=time(9, 15))
    by_day = load_by_day(records)
    assert by_day["2024-03-18"] == (0.25, 0.0, 0.0)  # CET, 08:00 UTC
    assert by_day["2024-04-01"] == (0.25, 0.0, 0.0)  # CEST, 07:00 UTC
    assert "2024-03-25" not in by_day  # the EXDATE


def test_the_owner_is_the_address_in_most_events_not_the_calendar_name() -> None:
    # Bob organises or attends several of these events and the room is booked for some.
    assert {signal.account for signal in signals(read())} == {ANN}


def test_rooms_do_not_own_calendars(tmp_path: Path) -> None:
    room = "ATTENDEE;CUTYPE=ROOM;PARTSTAT=ACCEPTED:mailto:room-fuji@example.com"
    path = write_calendar(
        tmp_path,
        "UID:1\nDTSTART:20240319T090000Z\nDTEND:20240319T100000Z\n"
        f"ORGANIZER:mailto:ann@example.com\n{room}",
        "UID:2\nDTSTART:20240320T090000Z\nDTEND:20240320T100000Z\n"
        f"ORGANIZER:mailto:bob@example.com\nATTENDEE:mailto:ann@example.com\n{room}",
    )
    accounts = {signal.account for signal in signals(read(path))}
    assert accounts == {ExternalAccount("email", "ann@example.com")}


def test_a_tie_for_owner_is_refused_and_an_explicit_owner_settles_it(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "UID:1\nDTSTART:20240319T090000Z\nDTEND:20240319T100000Z\n"
        "ORGANIZER:mailto:ann@example.com\nATTENDEE:mailto:bob@example.com",
    )
    with pytest.raises(InvalidInput, match=r"ann@example.com, bob@example.com.*--owner"):
        read(path)
    (signal,) = signals(read(path, owner_email="mailto:Bob@Example.com"))
    assert signal.account == ExternalAccount("email", "bob@example.com")


def test_an_explicit_owner_gets_only_their_own_meetings() -> None:
    records = read(owner_email="Bob.Meyer@Example.com")
    bob = ExternalAccount("email", "bob.meyer@example.com")
    assert {signal.account for signal in signals(records)} == {bob}
    assert load_by_day(records) == {
        "2024-03-18": (0.25, 0.0, 0.0),
        "2024-03-19": (1.0, 0.0, 0.0),  # planning only; Ann's customer call is not his
        "2024-03-21": (1.0, 0.0, 0.0),  # the budget review Ann declined, Bob did not
        "2024-04-01": (0.25, 0.0, 0.0),
    }
    assert all(
        s.external_id.startswith("calendar:bob.meyer@example.com:") for s in signals(records)
    )


def test_an_explicit_time_zone_moves_the_days_and_the_working_hours() -> None:
    records = read(time_zone="America/New_York")
    by_day = load_by_day(records)
    # Berlin 19:00-20:30 (CET) is 14:00-15:30 in New York (EDT): within working hours.
    assert by_day["2024-03-20"] == (1.5, 0.0, 0.0)
    # Berlin 23:00-01:00 is 18:00-20:00 in New York: one day, all of it after hours.
    assert by_day["2024-03-26"] == (2.0, 2.0, 0.0)
    assert "2024-03-27" not in by_day
    # Berlin's Sunday 01:30 CET is Saturday 20:30 in New York.
    assert by_day["2024-03-30"] == (1.0, 0.0, 1.0)
    # The standup at 09:00 Berlin is 04:00 (then 03:00) in New York.
    assert by_day["2024-03-18"] == (0.25, 0.25, 0.0)
    assert {s.attributes["time_zone"] for s in signals(records)} == {"America/New_York"}
    midnight = next(s for s in signals(records) if s.attributes["date"] == "2024-03-26")
    assert midnight.occurred_at == datetime(2024, 3, 26, 4, 0, tzinfo=UTC)


def test_the_window_bounds_the_days_start_included_end_excluded() -> None:
    records = read(start=date(2024, 3, 20), end=date(2024, 3, 27))
    assert sorted(load_by_day(records)) == ["2024-03-20", "2024-03-21", "2024-03-23", "2024-03-26"]


def test_a_personal_calendar_without_attendees_needs_an_owner_and_counts_every_event() -> None:
    with pytest.raises(InvalidInput, match="--owner"):
        read(PERSONAL_ICS, start=date(2024, 3, 1), end=date(2024, 3, 8))
    records = read(
        PERSONAL_ICS,
        owner_email="ann.schmidt@example.com",
        start=date(2024, 3, 1),
        end=date(2024, 3, 8),
    )
    # Times in UTC, day and working hours in the X-WR-TIMEZONE (Berlin): 17:00Z is 18:00.
    assert load_by_day(records) == {"2024-03-04": (1.0, 0.0, 0.0), "2024-03-05": (1.5, 1.5, 0.0)}
    assert {s.attributes["time_zone"] for s in signals(records)} == {"Europe/Berlin"}


def test_without_any_time_zone_days_are_utc(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "UID:1\nDTSTART:20240319T173000Z\nDTEND:20240319T183000Z\nORGANIZER:mailto:ann@example.com",
    )
    (meeting, after_hours) = signals(read(path))
    assert meeting.attributes["time_zone"] == after_hours.attributes["time_zone"] == "UTC"
    assert after_hours.value == 0.5
    assert meeting.occurred_at == datetime(2024, 3, 19, tzinfo=UTC)


def test_a_time_zone_that_is_not_iana_must_be_given(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "UID:1\nDTSTART;TZID=Mars/Olympus:20240319T190000\nDTEND;TZID=Mars/Olympus:20240319T200000\n"
        "ORGANIZER:mailto:ann@example.com",
    )
    with pytest.raises(InvalidInput, match=r"Mars/Olympus.*--time-zone"):
        read(path)
    # With the zone given, the unknown-zone (floating) times are read in it.
    assert load_by_day(read(path, time_zone="Europe/Berlin")) == {"2024-03-19": (1.0, 1.0, 0.0)}


def test_a_windows_time_zone_name_is_understood(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "UID:1\nDTSTART;TZID=W. Europe Standard Time:20240319T190000\n"
        "DTEND;TZID=W. Europe Standard Time:20240319T200000\nORGANIZER:mailto:ann@example.com",
    )
    (meeting, _after_hours) = signals(read(path))
    assert meeting.attributes["time_zone"] == "Europe/Berlin"


def test_events_with_unreadable_times_are_rejected_with_their_line() -> None:
    lines = BERLIN_ICS.read_text().splitlines()

    def begin_line(uid: str) -> int:
        uid_index = lines.index(f"UID:{uid}")
        return max(i for i in range(uid_index) if lines[i] == "BEGIN:VEVENT") + 1

    rejected = [record for record in read() if isinstance(record, RejectedRow)]
    assert [(row.line, row.reason.split(":")[0]) for row in rejected] == [
        (begin_line("broken-start@example.com"), "DTSTART cannot be read"),
        (begin_line("backwards@example.com"), "DTEND is before DTSTART"),
    ]
    assert rejected[1].raw.splitlines() == [
        "BEGIN:VEVENT",
        "UID:backwards@example.com",
        "DTSTART;TZID=Europe/Berlin:20240328T150000",
        "DTEND;TZID=Europe/Berlin:20240328T140000",
        "END:VEVENT",
    ]


def test_a_series_that_cannot_be_expanded_is_rejected_alone(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "UID:good\nDTSTART:20240319T090000Z\nDTEND:20240319T100000Z\n"
        "ORGANIZER:mailto:ann@example.com",
        "UID:bad\nDTSTART:20240320T090000Z\nDTEND:20240320T100000Z\n"
        "RDATE;VALUE=PERIOD:20240321T100000Z/20240321T090000Z\nORGANIZER:mailto:ann@example.com",
    )
    records = read(path)
    (row,) = [record for record in records if isinstance(record, RejectedRow)]
    assert row.line == 10  # its BEGIN:VEVENT
    assert "cannot be expanded" in row.reason
    assert "UID:bad" in row.raw
    assert load_by_day(records) == {"2024-03-19": (1.0, 0.0, 0.0)}


def test_no_summary_description_or_location_is_kept() -> None:
    private = [
        line.split(":", 1)[1]
        for line in BERLIN_ICS.read_text().splitlines()
        if line.startswith(("SUMMARY:", "DESCRIPTION:", "LOCATION:"))
    ]
    assert len(private) > 10
    records = read()
    assert any(isinstance(record, RejectedRow) for record in records)
    text = repr(records)
    assert [phrase for phrase in private if phrase in text] == []
    assert "SUMMARY" not in text
    assert "VALARM" not in text


def test_importing_the_same_file_again_gives_the_same_ids() -> None:
    first, second = signals(read()), signals(read())
    assert [s.external_id for s in first] == [s.external_id for s in second]
    assert first == second
    ids = [s.external_id for s in first]
    assert len(set(ids)) == len(ids)
    assert "calendar:ann.schmidt@example.com:2024-03-20:after_hours_meeting_hours" in ids


def test_crlf_line_endings_read_the_same(tmp_path: Path) -> None:
    crlf = tmp_path / "berlin.ics"
    crlf.write_bytes(BERLIN_ICS.read_bytes().replace(b"\n", b"\r\n"))
    assert read(crlf) == read(BERLIN_ICS)


def test_the_options_are_checked() -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        CalendarIcsConnector(time_zone="Berlin")
    with pytest.raises(InvalidInput, match="e-mail"):
        CalendarIcsConnector(owner_email="ann")
    with pytest.raises(InvalidInput, match="empty"):
        CalendarIcsConnector(start=date(2024, 3, 2), end=date(2024, 3, 2))
    with pytest.raises(InvalidInput, match="working hours"):
        CalendarIcsConnector(**WINDOW, work_start=time(18), work_end=time(9))


def test_a_file_that_is_not_icalendar_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.ics"
    path.write_text("these are meeting notes\n")
    with pytest.raises(InvalidInput, match="not an iCalendar file"):
        read(path)


def test_daily_load_counts_elapsed_time_for_local_times_across_dst() -> None:
    # 01:30 CET to 03:30 CEST is one hour, though the wall clock says two.
    start = datetime(2024, 3, 31, 1, 30, tzinfo=BERLIN)
    end = datetime(2024, 3, 31, 3, 30, tzinfo=BERLIN)
    (load,) = daily_load([(start, end)], zone=BERLIN).values()
    assert (load.meetings, load.hours, load.after_hours, load.weekend_hours) == (1, 1.0, 0.0, 1.0)


# -- daily_load: invariants over arbitrary meetings around the March DST change -----------------

_BASE = datetime(2024, 3, 29, tzinfo=UTC)  # Friday; Sunday 31 March has 23 hours in Berlin
#: Meetings as (first quarter-hour, length in quarter-hours) over five days from _BASE.
quarters_strategy = st.lists(
    st.tuples(st.integers(0, 5 * 24 * 4), st.integers(1, 12 * 4)), max_size=12
)


def _as_meetings(quarters: list[tuple[int, int]]) -> list[tuple[datetime, datetime]]:
    return [
        (_BASE + timedelta(minutes=15 * first), _BASE + timedelta(minutes=15 * (first + length)))
        for first, length in quarters
    ]


def _day_hours(day: date) -> float:
    midnight = datetime.combine(day, time(0), BERLIN).astimezone(UTC)
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), BERLIN).astimezone(UTC)
    return (next_midnight - midnight) / timedelta(hours=1)


@given(quarters_strategy, st.randoms(use_true_random=False))
def test_daily_load_counts_each_moment_once(
    quarters: list[tuple[int, int]], shuffler: random.Random
) -> None:
    meetings = _as_meetings(quarters)
    loads = daily_load(meetings, zone=BERLIN)
    # Splitting at local midnights neither loses nor adds time; double-booking counts once.
    busy = {q for first, length in quarters for q in range(first, first + length)}
    assert sum(load.hours for load in loads.values()) == pytest.approx(len(busy) / 4)
    for day, load in loads.items():
        assert 0 < load.hours <= _day_hours(day)
        assert load.after_hours + load.weekend_hours <= load.hours + 1e-9
        assert load.after_hours == 0 or load.weekend_hours == 0
        assert load.meetings <= len(meetings)
    # Neither the order nor a duplicated (double-booked) meeting changes the hours.
    again = [*meetings, *meetings]
    shuffler.shuffle(again)
    hours_again = {day: load.hours for day, load in daily_load(again, zone=BERLIN).items()}
    assert hours_again == pytest.approx({day: load.hours for day, load in loads.items()})
