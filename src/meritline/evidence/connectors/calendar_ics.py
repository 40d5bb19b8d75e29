"""Calendar exports (iCalendar ``.ics``): meeting load per day, in the person's time zone.

One file is one person's calendar export. Recurring events are expanded (RRULE, RDATE, EXDATE
and moved instances, by ``recurring-ical-events``) over the window ``start`` (included) to
``end`` (excluded), both local calendar days. Each local day with meeting time yields:

| signal | value (hours) | emitted |
| --- | --- | --- |
| ``meeting_hours`` | time in meetings, overlaps merged (double-booked time counts once) | always |
| ``after_hours_meeting_hours`` | part of it before ``work_start`` or after ``work_end`` | > 0 |
| ``weekend_meeting_hours`` | all of it, on a Saturday or Sunday | > 0 |

After-hours time is counted on weekdays only: a weekend day has no working hours, so its time is
weekend time, and the two loads never overlap (in-hours + after-hours + weekend = total).
Hours are elapsed time, so a meeting across a DST change counts what the clock on the wall did
not. A meeting across local midnight is split between the two days. ``occurred_at`` is the
day's local midnight in UTC; ``attributes`` are ``date``, ``meetings`` (events with time that
day, double-booked ones each counted) and ``time_zone``; ``external_id`` is
``calendar:{owner}:{date}:{type}``, so importing the same file again stores nothing new.

**Whose calendar.** ``X-WR-CALNAME`` is free text, so the owner is the ``ORGANIZER`` or
``ATTENDEE`` address (rooms and resources aside) that appears in the most events (series count
once); a tie is refused with a request for ``owner_email`` (the CLI's ``--owner``), which also
overrides the inference. The account is ``ExternalAccount("email", <lower-cased address>)``.

**Which events count.** Not: cancelled (``STATUS:CANCELLED``), declined or delegated by the owner
(``PARTSTAT``), free time (``TRANSP:TRANSPARENT``), all-day (``DTSTART`` is a date), lasting a
day or more (out-of-office, travel and conference blocks are not meetings), or without the owner
as organizer or attendee. A calendar with no organizer or attendee addresses at all is a personal
calendar: every event in it counts (and ``owner_email`` must be given). Tentative and unanswered
invitations count: the time is blocked either way.

**Time zone.** ``time_zone`` if given, else the calendar's ``X-WR-TIMEZONE``, else the ``TZID`` of
the first event that has one, else UTC. Times without a zone ("floating") are read in it.

**Rejected events.** An event whose timing cannot be read (a broken ``DTSTART``, ``DTEND`` or
``RRULE``, ``DTEND`` before ``DTSTART``, a series that cannot be expanded) becomes a
``RejectedRow`` with the line of its ``BEGIN:VEVENT``; its quarantined text keeps only timing
properties. Summaries, descriptions, locations and attendee names are never kept.

Unlike other file formats, the file is read whole: exports are small, and recurrence and moved
instances need the whole series at once. Rejected events come first (in file order), then the
signals by day.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import recurring_ical_events  # type: ignore[import-untyped]
from icalendar import Calendar, Component, Event

from meritline.errors import InvalidInput
from meritline.evidence.connectors.files import FileConnector, FileRecord
from meritline.evidence.signals import ExternalAccount, RejectedRow, SignalDraft

SOURCE = "calendar"
MEETING_HOURS = "meeting_hours"
AFTER_HOURS = "after_hours_meeting_hours"
WEEKEND = "weekend_meeting_hours"

#: Properties that say when an event happens: one that cannot be read rejects the event.
TIMING_PROPERTIES = frozenset(
    {"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID"}
)
#: What a rejected event keeps in quarantine (no summary, description, location or names).
QUARANTINED_PROPERTIES = TIMING_PROPERTIES | {"UID", "STATUS", "TRANSP"}
#: The owner's answers that mean the owner is not in the meeting.
NOT_ATTENDING = frozenset({"DECLINED", "DELEGATED"})
#: Attendees that are not people (they would otherwise "own" every calendar they are booked in).
NOT_PEOPLE = frozenset({"ROOM", "RESOURCE"})
#: Saturday and Sunday (``date.weekday()``).
WEEKEND_DAYS = frozenset({5, 6})
#: Timed events at least this long are blocks (out of office, travel), not meetings.
LONGEST_MEETING = timedelta(days=1)

NO_OWNER = (
    "{path} has no organizer or attendee addresses, so whose calendar it is cannot be told: "
    "pass the owner's e-mail address (--owner)"
)
AMBIGUOUS_OWNER = (
    "{path} could be the calendar of {candidates} (each is in {count} events): "
    "pass the owner's e-mail address (--owner)"
)
NOT_A_ZONE = "{what} {name!r} is not an IANA time zone such as 'Europe/Berlin': pass --time-zone"


@dataclass(frozen=True)
class DayLoad:
    """Meeting time on one local day, in hours (after-hours and weekend time never overlap)."""

    meetings: int
    hours: float
    after_hours: float
    weekend_hours: float


def email_address(value: object) -> str | None:
    """``mailto:Ann@Example.com`` as ``ann@example.com``; None when it is not an e-mail address."""
    text = str(value).strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    text = text.strip().lower()
    return text if "@" in text else None


def _attendees(event: Component) -> list[Any]:
    value = event.get("ATTENDEE")
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _param(address: Any, name: str) -> str:
    params = getattr(address, "params", None) or {}
    return str(params.get(name, "")).upper()


def participants(event: Component) -> set[str]:
    """The people on an event: its organizer's and attendees' addresses, rooms left out."""
    found = {email_address(event["ORGANIZER"])} if "ORGANIZER" in event else set()
    found |= {
        email_address(attendee)
        for attendee in _attendees(event)
        if _param(attendee, "CUTYPE") not in NOT_PEOPLE
    }
    return {address for address in found if address is not None}


def _series_key(event: Component, index: int) -> str:
    uid = event.get("UID")
    return str(uid) if uid else f"#{index}"


def infer_owner(events: Sequence[Component], *, path: Path) -> str | None:
    """The address in the most events (a series counts once); None when there is none.

    A tie is refused (``InvalidInput``): which of them owns the calendar is a guess.
    """
    series: dict[str, set[str]] = defaultdict(set)
    for index, event in enumerate(events):
        series[_series_key(event, index)] |= participants(event)
    counts = Counter(address for addresses in series.values() for address in addresses)
    if not counts:
        return None
    (owner, most), *_ = counts.most_common(1)
    tied = sorted(address for address, count in counts.items() if count == most)
    if len(tied) > 1:
        raise InvalidInput(
            AMBIGUOUS_OWNER.format(path=path, candidates=", ".join(tied), count=most)
        )
    return owner


def zone_named(name: str, *, what: str = "time zone") -> ZoneInfo:
    """The IANA zone ``name``, or ``InvalidInput`` saying to pass one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(NOT_A_ZONE.format(what=what, name=name)) from None


def calendar_time_zone(calendar: Component, events: Iterable[Component]) -> ZoneInfo:
    """``X-WR-TIMEZONE``, else the zone of the first event with a ``TZID``, else UTC."""
    declared = calendar.get("X-WR-TIMEZONE")
    if declared:
        return zone_named(str(declared), what="the calendar's X-WR-TIMEZONE")
    for event in events:
        start = event.get("DTSTART")
        tzid = (getattr(start, "params", None) or {}).get("TZID")
        if not tzid:
            continue
        try:
            zone = start.dt.tzinfo
        except ValueError:  # a broken DTSTART: its event is rejected; its TZID may still be fine
            zone = None
        if isinstance(zone, ZoneInfo) and zone.key:  # icalendar maps Windows names to IANA
            return zone
        return zone_named(str(tzid), what="the first event's TZID")
    return ZoneInfo("UTC")


def _instant(value: datetime, zone: ZoneInfo) -> datetime:
    """A date-time from the calendar in UTC; floating times are read in ``zone``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _timing_problem(event: Event, zone: ZoneInfo) -> str | None:
    """Why the event's time cannot be read, or None when it can."""
    for name, message in event.errors:
        if name in TIMING_PROPERTIES:
            return f"{name} cannot be read: {message}"
    try:
        start, end = event.start, event.end
    except ValueError as exc:  # icalendar's InvalidCalendar, IncompleteComponent
        return str(exc)
    if isinstance(start, datetime) and isinstance(end, datetime):
        start, end = _instant(start, zone), _instant(end, zone)
    if end < start:
        return "DTEND is before DTSTART"
    return None


def _unfolded(lines: Iterable[str]) -> list[str]:
    unfolded: list[str] = []
    for line in lines:
        if line[:1] in (" ", "\t") and unfolded:
            unfolded[-1] += line[1:]
        else:
            unfolded.append(line)
    return unfolded


def quarantined_text(event_text: str) -> str:
    """An event's lines with only its timing properties kept (and no alarms inside it)."""
    kept: list[str] = []
    depth = 0
    for line in _unfolded(event_text.splitlines()):
        name = re.split("[;:]", line, maxsplit=1)[0].strip().upper()
        if name == "BEGIN":
            depth += 1
            keep = depth == 1
        elif name == "END":
            keep = depth == 1
            depth -= 1
        else:
            keep = depth == 1 and name in QUARANTINED_PROPERTIES
        if keep:
            kept.append(line)
    return "\n".join(kept)


def event_blocks(text: str) -> list[tuple[int, str]]:
    """Each ``BEGIN:VEVENT`` ... ``END:VEVENT`` of a file: its first line number and its text."""
    lines = text.splitlines()
    blocks: list[tuple[int, str]] = []
    first: int | None = None
    for index, line in enumerate(lines):
        marker = line.strip().upper()
        if marker == "BEGIN:VEVENT":
            first = index
        elif marker == "END:VEVENT" and first is not None:
            blocks.append((first + 1, "\n".join(lines[first : index + 1])))
            first = None
    return blocks


def _local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _merged(spans: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _overlap(spans: Iterable[tuple[datetime, datetime]], lo: datetime, hi: datetime) -> timedelta:
    return sum(
        (min(end, hi) - max(start, lo) for start, end in spans if start < hi and end > lo),
        timedelta(),
    )


def _hours(duration: timedelta) -> float:
    return duration / timedelta(hours=1)


def daily_load(
    meetings: Iterable[tuple[datetime, datetime]],
    *,
    zone: ZoneInfo,
    work_start: time = time(9),
    work_end: time = time(18),
) -> dict[date, DayLoad]:
    """Meeting time per local day of ``zone``, for meetings given as aware (start, end) pairs.

    Meetings are split at local midnights; on each day overlapping meetings are merged, so
    double-booked time counts once. Days are in date order; days without meeting time are absent.
    """
    spans: dict[date, list[tuple[datetime, datetime]]] = defaultdict(list)
    for meeting_start, meeting_end in meetings:
        start, end = meeting_start.astimezone(UTC), meeting_end.astimezone(UTC)
        day = start.astimezone(zone).date()
        while True:
            midnight = _local_instant(day, time(0), zone)
            next_midnight = _local_instant(day + timedelta(days=1), time(0), zone)
            if max(start, midnight) < min(end, next_midnight):
                spans[day].append((max(start, midnight), min(end, next_midnight)))
            if end <= next_midnight:
                break
            day += timedelta(days=1)
    loads: dict[date, DayLoad] = {}
    for day in sorted(spans):
        merged = _merged(spans[day])
        total = sum((end - start for start, end in merged), timedelta())
        weekend = after_hours = timedelta()
        if day.weekday() in WEEKEND_DAYS:
            weekend = total
        else:
            working = (_local_instant(day, work_start, zone), _local_instant(day, work_end, zone))
            after_hours = total - _overlap(merged, *working)
        loads[day] = DayLoad(len(spans[day]), _hours(total), _hours(after_hours), _hours(weekend))
    return loads


class CalendarIcsConnector(FileConnector):
    """One person's calendar export (iCalendar): meeting load per local day (see the module)."""

    type = "calendar_ics"
    description = "Calendar export (.ics): meeting hours per day, after hours and at weekends"
    suffixes = (".ics",)

    def __init__(
        self,
        *,
        owner_email: str | None = None,
        time_zone: str | None = None,
        start: date | None = None,
        end: date | None = None,
        work_start: time = time(9),
        work_end: time = time(18),
    ) -> None:
        owner = email_address(owner_email) if owner_email is not None else None
        if owner_email is not None and owner is None:
            raise InvalidInput(f"--owner {owner_email!r} is not an e-mail address")
        self.owner_email = owner
        self.zone = zone_named(time_zone, what="--time-zone") if time_zone is not None else None
        self.end = end if end is not None else datetime.now(UTC).date()
        self.start = start if start is not None else self.end - timedelta(days=365)
        if self.start >= self.end:
            raise InvalidInput(f"the window {self.start} to {self.end} is empty")
        if work_start >= work_end:
            raise InvalidInput(f"working hours {work_start} to {work_end} do not make a day")
        self.work_start, self.work_end = work_start, work_end

    @classmethod
    def recognises(cls, path: Path, first_line: str) -> bool:
        """An ``.ics`` file, or any file that starts as an iCalendar object does."""
        return path.suffix.lower() in cls.suffixes or first_line.strip().upper() == (
            "BEGIN:VCALENDAR"
        )

    def read(self, path: Path) -> Iterator[FileRecord]:
        """Rejected events, then the day signals (see the module's table)."""
        text = path.read_text(encoding="utf-8-sig")
        try:
            calendar = Calendar.from_ical(text)
        except ValueError as exc:
            raise InvalidInput(f"{path} is not an iCalendar file: {exc}") from None
        if not isinstance(calendar, Calendar):
            raise InvalidInput(f"{path} holds no VCALENDAR")
        events = [event for event in calendar.walk("VEVENT") if isinstance(event, Event)]
        owner = self.owner_email or infer_owner(events, path=path)
        if owner is None:
            raise InvalidInput(NO_OWNER.format(path=path))
        everyone_counts = not any(participants(event) for event in events)
        zone = self.zone or calendar_time_zone(calendar, events)
        blocks = event_blocks(text)
        located = len(blocks) == len(events)

        def rejected(index: int, reason: str) -> RejectedRow:
            if located:
                line, raw = blocks[index]
                return RejectedRow(line, reason, quarantined_text(raw))
            return RejectedRow(0, reason, quarantined_text(events[index].to_ical().decode()))

        series: dict[str, list[tuple[int, Event]]] = defaultdict(list)
        for index, event in enumerate(events):
            problem = _timing_problem(event, zone)
            if problem is not None:
                yield rejected(index, problem)
            else:
                series[_series_key(event, index)].append((index, event))

        window = (
            datetime.combine(self.start, time(0), tzinfo=zone),
            datetime.combine(self.end, time(0), tzinfo=zone),
        )
        meetings: list[tuple[datetime, datetime]] = []
        for members in series.values():
            try:
                occurrences = _occurrences(calendar, [event for _, event in members], window)
                spans = [
                    _meeting(occurrence, owner, everyone_counts, zone) for occurrence in occurrences
                ]
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                for index, _ in members:
                    yield rejected(index, f"the series cannot be expanded: {exc}")
                continue
            meetings.extend(span for span in spans if span is not None)

        loads = daily_load(meetings, zone=zone, work_start=self.work_start, work_end=self.work_end)
        for day, load in loads.items():
            if self.start <= day < self.end:
                yield from _day_signals(owner, zone, day, load)


def _occurrences(
    calendar: Component, members: list[Event], window: tuple[datetime, datetime]
) -> list[Event]:
    """One series' occurrences in the window (a series at a time, so one bad series stays alone)."""
    series = Calendar()
    series.update(calendar)  # calendar properties: X-WR-TIMEZONE changes how UTC times recur
    series.subcomponents.extend(calendar.walk("VTIMEZONE"))
    series.subcomponents.extend(members)
    occurrences = recurring_ical_events.of(series).between(*window)
    return [occurrence for occurrence in occurrences if isinstance(occurrence, Event)]


def _meeting(
    occurrence: Event, owner: str, everyone_counts: bool, zone: ZoneInfo
) -> tuple[datetime, datetime] | None:
    """The (start, end) of an occurrence that counts as the owner's meeting, else None."""
    if str(occurrence.get("STATUS", "")).upper() == "CANCELLED":
        return None
    if str(occurrence.get("TRANSP", "")).upper() == "TRANSPARENT":
        return None
    if not everyone_counts and not _owner_attends(occurrence, owner):
        return None
    start, end = occurrence.start, occurrence.end
    if not isinstance(start, datetime) or not isinstance(end, datetime):  # all-day
        return None
    start, end = _instant(start, zone), _instant(end, zone)
    if not timedelta() < end - start < LONGEST_MEETING:
        return None
    return start, end


def _owner_attends(occurrence: Component, owner: str) -> bool:
    for attendee in _attendees(occurrence):
        if email_address(attendee) == owner:
            return _param(attendee, "PARTSTAT") not in NOT_ATTENDING
    return "ORGANIZER" in occurrence and email_address(occurrence["ORGANIZER"]) == owner


def _day_signals(owner: str, zone: ZoneInfo, day: date, load: DayLoad) -> Iterator[SignalDraft]:
    account = ExternalAccount("email", owner)
    occurred_at = _local_instant(day, time(0), zone)
    attributes = {"date": day.isoformat(), "meetings": load.meetings, "time_zone": zone.key}
    for kind, hours in (
        (MEETING_HOURS, load.hours),
        (AFTER_HOURS, load.after_hours),
        (WEEKEND, load.weekend_hours),
    ):
        if hours > 0:
            yield SignalDraft(
                SOURCE,
                kind,
                account,
                occurred_at,
                f"calendar:{owner}:{day.isoformat()}:{kind}",
                hours,
                dict(attributes),
            )
