"""Schedules as value objects: a cron that knows its timezone, and a window between two crons.

Users write 5-field cron (minute hour day-of-month month day-of-week) in an IANA timezone. Each service wants its
own spelling: Kubernetes/KEDA/Karpenter take 5 fields; Application Auto Scaling and EventBridge Scheduler take the
6-field AWS form `cron(m h dom mon dow year)` where one of day-of-month/day-of-week must be `?` and day-of-week
counts 1=SUN..7=SAT. Rendering lives here so no component formats a cron string by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import CroniterBadDateError, croniter

_AWS_DOW_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


class ScheduleError(ValueError):
    """A cron or timezone a user wrote is not usable: `problem` says why, `fix` how to fix it."""

    def __init__(self, problem: str, fix: str = ""):
        self.problem, self.fix = problem, fix
        super().__init__(f"{problem}: {fix}" if fix else problem)


_CRON_FIELDS = (
    ("minute", "0–59"),
    ("hour", "0–23"),
    ("day-of-month", "1–31"),
    ("month", "1–12 or JAN–DEC"),
    ("day-of-week", "0–7 or SUN–SAT"),
)


def zone(name: str) -> ZoneInfo:
    """The IANA timezone, or a ScheduleError that suggests the right spelling."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        import difflib

        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "use an IANA name such as 'America/New_York' or 'UTC'"
        raise ScheduleError(f"unknown timezone '{name}'", hint) from None


def _aws_dow(field: str) -> str:
    """Translate a 5-field day-of-week (0/7=Sunday) into AWS's (1=SUN), keeping names, ranges and lists."""

    def one(token: str) -> str:
        if token.isdigit():
            return _AWS_DOW_NAMES[int(token) % 7]
        return token.upper()

    parts = []
    for item in field.split(","):
        step = ""
        if "/" in item:
            item, step = item.split("/", 1)
            step = "/" + step
        if "-" in item:
            lo, hi = item.split("-", 1)
            parts.append(f"{one(lo)}-{one(hi)}{step}")
        else:
            parts.append(one(item) + step)
    return ",".join(parts)


def _from_aws_form(fields: list[str]) -> str | None:
    """The 5-field equivalent of a 6-field AWS cron (`?` → `*`, day-of-week 1=SUN → 0), when it is plain enough."""
    minute, hour, dom, month, dow, _year = fields
    dom, dow = ("*" if dom == "?" else dom), ("*" if dow == "?" else dow)

    def one(token: str) -> str:
        return str(int(token) - 1) if token.isdigit() and 1 <= int(token) <= 7 else token

    if any(c in dow for c in "#L/"):
        return None
    dow = ",".join("-".join(one(t) for t in item.split("-")) for item in dow.split(","))
    candidate = f"{minute} {hour} {dom} {month} {dow}"
    return candidate if croniter.is_valid(candidate) else None


@lru_cache(maxsize=4096)  # immutable and asked again for every window of every hour a plan looks at
def _check_cron(expression: str, timezone_name: str) -> None:
    """A ScheduleError when the 5-field cron or its timezone is wrong (invalid ones are not cached: they raise)."""
    fields = expression.split()
    if len(fields) != 5:
        five = _from_aws_form(fields) if len(fields) == 6 else None
        raise ScheduleError(
            f"cron '{expression}' has {len(fields)} fields; llama-infra takes 5 (minute hour day-of-month "
            "month day-of-week, in the schedule's timezone) and renders the 6-field AWS form itself",
            f"write '{five}'" if five else "write 5 fields, e.g. '0 22 * * 1-5' (22:00 Monday to Friday)",
        )
    if not croniter.is_valid(expression):
        bad = [
            f"{name} '{fields[i]}' must be {allowed}"
            for i, (name, allowed) in enumerate(_CRON_FIELDS)
            if not croniter.is_valid(" ".join(fields[i] if j == i else "*" for j in range(5)))
        ]
        raise ScheduleError(
            f"cron '{expression}' is not a valid cron expression" + (f" ({'; '.join(bad)})" if bad else ""),
            "write minute hour day-of-month month day-of-week, e.g. '0 22 * * 1-5'",
        )
    if fields[2] != "*" and fields[4] != "*":
        raise ScheduleError(
            f"cron '{expression}' sets both day-of-month and day-of-week; AWS schedules accept only one of them",
            "set one of them to '*'",
        )
    zone(timezone_name)
    try:  # a date that never comes ('0 22 30 2 *'): croniter gives up after searching years ahead
        croniter(expression, datetime(2026, 1, 1, tzinfo=UTC), max_years_between_matches=1).get_next(datetime)
    except CroniterBadDateError:
        raise ScheduleError(
            f"cron '{expression}' does not fire in a whole year (no such date)",
            "use a day that every month or year has, e.g. '0 22 * * *' or '0 22 1 * *'",
        ) from None


@dataclass(frozen=True)
class Cron:
    """A 5-field cron expression in an IANA timezone."""

    expression: str
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        _check_cron(self.expression, self.timezone)

    @property
    def fields(self) -> list[str]:
        return self.expression.split()

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    def next_after(self, when: datetime) -> datetime:
        """Next firing strictly after `when`, as an aware datetime in this cron's timezone.

        croniter iterates in local wall-clock time, so 22:00 New York stays 22:00 across DST changes.
        """
        return _next_firing(self.expression, self.timezone, when.timestamp())

    def firings(self, start: datetime, end: datetime) -> list[datetime]:
        out: list[datetime] = []
        t = self.next_after(start - timedelta(microseconds=1))
        while t < end:
            out.append(t)
            t = self.next_after(t)
        return out

    def as_kubernetes(self) -> str:
        """5-field form for KEDA cron triggers and CronJobs (paired with `timezone`)."""
        return self.expression

    def as_aws(self) -> str:
        """6-field `cron(...)` for Application Auto Scaling scheduled actions and EventBridge Scheduler."""
        minute, hour, dom, month, dow = self.fields
        if dow == "*":
            dow = "?"
        else:
            dom = "?"
            dow = _aws_dow(dow)
        return f"cron({minute} {hour} {dom} {month} {dow} *)"

    def shifted_earlier(self, minutes: int) -> Cron:
        """The same schedule `minutes` earlier, for lead time (only for fixed minute/hour fields).

        A shift that crosses midnight moves day-of-week back by one day too.
        """
        return self._shifted(
            -minutes,
            f"starting {minutes} min earlier crosses midnight into another day",
            f"end the window at {minutes // 60:02d}:{minutes % 60:02d} or later, or use "
            "day-of-week instead of day-of-month",
        )

    def shifted_later(self, minutes: int) -> Cron:
        """The same schedule `minutes` later, for a delay after the window starts (fixed minute/hour fields only).

        A shift that crosses midnight moves day-of-week forward by one day too.
        """
        latest = 24 * 60 - minutes
        return self._shifted(
            minutes,
            f"firing {minutes} min later crosses midnight into another day",
            f"start the window at {max(latest, 0) // 60:02d}:{max(latest, 0) % 60:02d} or "
            "earlier, or use day-of-week instead of day-of-month",
        )

    def _shifted(self, delta_minutes: int, crosses: str, fix: str) -> Cron:
        minute, hour, dom, month, dow = self.fields
        if not (minute.isdigit() and hour.isdigit()):
            raise ScheduleError(
                f"cron '{self.expression}' has no fixed minute and hour to shift",
                "write a fixed minute and hour, e.g. '0 7 * * 1-5'",
            )
        total = int(hour) * 60 + int(minute) + delta_minutes
        day_shift = total // (24 * 60)  # < 0: earlier days, > 0: later days
        total %= 24 * 60
        if day_shift and dom != "*":
            raise ScheduleError(f"cron '{self.expression}' is a day-of-month schedule and {crosses}", fix)
        if day_shift and dow != "*":
            dow = ",".join(_shift_dow_token(tok, day_shift) for tok in dow.split(","))
        return Cron(f"{total % 60} {total // 60} {dom} {month} {dow}", self.timezone)


@lru_cache(maxsize=65536)
def _next_firing(expression: str, timezone_name: str, after_timestamp: float) -> datetime:
    """croniter's next firing after an instant (POSIX seconds: exact, unlike an aware datetime as a key, which
    compares equal across zones and ignores `fold`), in local time of the zone. Cached: a week of hourly "which
    window is in force" questions (capacity plan, SLO targets, the simulator's floor) walks the same firings again
    and again."""
    return croniter(expression, datetime.fromtimestamp(after_timestamp, zone(timezone_name))).get_next(datetime)


def _shift_dow_token(token: str, days: int) -> str:
    """Move a day-of-week token by `days` (negative: earlier)."""
    names = {n: i for i, n in enumerate(_AWS_DOW_NAMES)}

    def num(t: str) -> int:
        return int(t) % 7 if t.isdigit() else names[t.upper()[:3]]

    if "/" in token or "#" in token or token.upper().endswith("L"):
        raise ScheduleError(
            f"day-of-week '{token}' cannot be moved to another day", "list the days, e.g. '1-5' or 'MON,WED,FRI'"
        )
    if "-" in token:
        lo, hi = token.split("-", 1)
        if (num(hi) - num(lo)) % 7 == 6 or (lo, hi) == ("0", "7"):
            return "0-6"  # the whole week stays the whole week
        a, b = (num(lo) + days) % 7, (num(hi) + days) % 7
        # Never a one-day range like "6-6": croniter reads "6-6" as every day of the week.
        return _dow_range(a, b) if a <= b else f"{_dow_range(a, 6)},{_dow_range(0, b)}"
    return str((num(token) + days) % 7)


def _dow_range(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"


@dataclass(frozen=True)
class Window:
    """A recurring window: from each `start` firing until the next `end` firing."""

    start: Cron
    end: Cron

    def occurrences(self, since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
        """(begin, finish) pairs, in UTC, of windows that begin before `until` and end after `since`.

        UTC because Python compares and subtracts datetimes that share a tzinfo by wall clock: a night that spans a
        daylight-saving change would otherwise look an hour too long or too short.
        """
        out = []
        for begin in self.start.firings(since - timedelta(days=7), until):
            finish = self.end.next_after(begin)
            begin_utc, finish_utc = begin.astimezone(UTC), finish.astimezone(UTC)
            if finish_utc > since:
                out.append((begin_utc, finish_utc))
        return out

    def active_at(self, when: datetime) -> bool:
        return any(b <= when < f for b, f in self.occurrences(when, when + timedelta(seconds=1)))

    def overlaps(self, other: Window, since: datetime, days: int = 14) -> tuple[datetime, datetime] | None:
        """First overlap of two windows within `days` of `since`, or None."""
        until = since + timedelta(days=days)
        mine = self.occurrences(since, until)
        theirs = other.occurrences(since, until)
        for b1, f1 in mine:
            for b2, f2 in theirs:
                if b1 < f2 and b2 < f1:
                    return (max(b1, b2), min(f1, f2))
        return None

    def longest_hours(self, since: datetime, days: int = 14) -> float:
        occ = self.occurrences(since, since + timedelta(days=days))
        return max(((f - b).total_seconds() / 3600 for b, f in occ), default=0.0)


@dataclass(frozen=True)
class LocalTimeAnomaly:
    """A firing of a cron on a daylight-saving day whose local time does not exist (`gap`) or occurs twice (`fold`)."""

    kind: str  # "gap" (clocks jump over it) or "fold" (clocks pass it twice)
    local: datetime  # the wall-clock time as written, naive
    span: tuple[datetime, datetime]  # the wall-clock times skipped or repeated: [first, last)

    @property
    def change(self) -> str:
        minutes = int((self.span[1] - self.span[0]).total_seconds() // 60)
        amount = f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"
        return f"clocks go {'forward' if self.kind == 'gap' else 'back'} {amount}"


# How far ahead the daylight-saving checks look: the tz database carries each zone's announced rules, and a zone
# whose rules change (or whose change dates move with a calendar, e.g. Morocco's Ramadan) differs between years.
DST_CHECK_YEARS = 10


def dst_check_years(first_year: int) -> range:
    """The years the daylight-saving checks scan: from `first_year` (the schedule checks' reference year) through
    DST_CHECK_YEARS years past the current one, so every rule the tz database holds for the coming decade is seen."""
    return range(first_year, max(first_year, datetime.now(UTC).year) + DST_CHECK_YEARS + 1)


@dataclass(frozen=True)
class OffsetChange:
    """A change of a zone's UTC offset: the instant (UTC, on the minute) and the offsets before and after."""

    at: datetime
    before: timedelta
    after: timedelta

    @property
    def wall(self) -> datetime:
        """The wall-clock reading the change happens at (naive, in the offset before it)."""
        return (self.at + self.before).replace(tzinfo=None)


@lru_cache(maxsize=512)
def offset_changes(tz: ZoneInfo, year: int) -> tuple[OffsetChange, ...]:
    """Every change of `tz`'s UTC offset in `year`, from the tz database (zoneinfo), found by bisection."""
    out = []
    weeks = [datetime(year, 1, 1, 12, tzinfo=UTC) + timedelta(days=d) for d in range(0, 372, 7)]

    def offset(t: datetime) -> timedelta:
        return t.astimezone(tz).utcoffset() or timedelta(0)

    for a, b in pairwise(weeks):
        if offset(a) == offset(b):
            continue
        lo, hi = a, b  # bisect to the minute of the change, in absolute time
        while hi - lo > timedelta(minutes=1):
            mid = lo + (hi - lo) / 2
            lo, hi = (mid, hi) if offset(mid) == offset(a) else (lo, mid)
        hi = hi.replace(second=0, microsecond=0)  # zones change on a whole minute
        if hi.year == year:
            out.append(OffsetChange(hi, offset(a), offset(hi)))
    return tuple(out)


def local_time_anomalies(cron: Cron, year: int = 2026) -> list[LocalTimeAnomaly]:
    """Firings of `cron` in `year` at a local time that a daylight-saving change skips or repeats.

    What the schedulers do then, the rule docs/bad-input.md states: EventBridge Scheduler (SageMaker windows)
    skips a time that does not exist and runs a repeated one once; KEDA's cron (robfig/cron, which steps hours in
    absolute time) skips a time that does not exist too. So a start in the gap means no window that night, and an
    end in the gap means that the window runs on until the next day's end.
    """
    return list(_local_time_anomalies(cron, year))


def distinct_local_time_anomalies(cron: Cron, years: range) -> list[LocalTimeAnomaly]:
    """The first firing of each kind of anomaly over `years`: one per (gap or fold, time of day skipped or
    repeated), so a zone whose rules differ between years shows each rule once, at its first date."""
    seen: set[tuple] = set()
    out = []
    for year in years:
        for a in _local_time_anomalies(cron, year):
            key = (a.kind, a.local.time(), a.span[0].time(), a.span[1] - a.span[0])
            if key not in seen:
                seen.add(key)
                out.append(a)
    return out


@lru_cache(maxsize=1024)  # validation and warnings both ask, for each window
def _local_time_anomalies(cron: Cron, year: int) -> tuple[LocalTimeAnomaly, ...]:
    out: list[LocalTimeAnomaly] = []
    minutes, hours = croniter(cron.expression).expanded[:2]  # ['*'] or the values the field allows
    for change in offset_changes(cron.tz, year):
        before, after, wall = change.before, change.after, change.wall
        gap = after > before
        span = (wall, wall + (after - before)) if gap else (wall - (before - after), wall)
        t = span[0]
        while t < span[1]:
            if (
                (minutes == ["*"] or t.minute in minutes)
                and (hours == ["*"] or t.hour in hours)
                and croniter.match(cron.expression, t)
            ):
                out.append(LocalTimeAnomaly("gap" if gap else "fold", t, span))
            t += timedelta(minutes=1)
    return tuple(out)
