"""Representatives' business hours: a weekly schedule in a timezone, with holidays.

Read from a YAML file an admin edits (``CHATBOT_HOURS_FILE``; none = always
open). Problems are reported as ``file:line: message``, like the intent files.

    timezone: America/New_York
    weekly:
      monday: "08:00-18:00"
      saturday: "09:00-12:00, 13:00-15:00"
      sunday: closed
    holidays:
      - 2026-12-25

Tested in tests/test_service_levels.py.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

Range = tuple[dt.time, dt.time]


class HoursError(Exception):
    """The hours file has problems; ``str()`` lists them as ``file:line: message``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class BusinessHours:
    """When representatives work; ``always`` when no file is configured."""

    zone: dt.tzinfo = dt.UTC
    weekly: dict[int, tuple[Range, ...]] = field(default_factory=dict)
    holidays: frozenset[dt.date] = frozenset()
    always: bool = True

    def is_open(self, now: dt.datetime) -> bool:
        if self.always:
            return True
        local = now.astimezone(self.zone)
        if local.date() in self.holidays:
            return False
        return any(start <= local.time() < end for start, end in self.weekly.get(local.weekday(), ()))

    def next_open(self, now: dt.datetime) -> dt.datetime | None:
        """When representatives are next in, within two weeks; None if never."""
        if self.always:
            return now
        local = now.astimezone(self.zone)
        for offset in range(15):
            day = local.date() + dt.timedelta(days=offset)
            if day in self.holidays:
                continue
            for start, _end in sorted(self.weekly.get(day.weekday(), ())):
                opening = dt.datetime.combine(day, start, tzinfo=self.zone)
                if opening > local:
                    return opening
        return None


def _parse_ranges(value: object, where: str, problems: list[str]) -> tuple[Range, ...]:
    if value in ("closed", None, ""):
        return ()
    if not isinstance(value, str):
        problems.append(f'{where}: expected "HH:MM-HH:MM" (several separated by commas) or closed')
        return ()
    ranges = []
    for part in value.split(","):
        match = _RANGE.match(part)
        if not match:
            problems.append(f'{where}: "{part.strip()}" is not HH:MM-HH:MM')
            continue
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2 != 0) or (h1, m1) >= (h2, m2):
            problems.append(f'{where}: "{part.strip()}" is not a valid range within one day')
            continue
        end = dt.time(23, 59, 59, 999999) if h2 == 24 else dt.time(h2, m2)
        ranges.append((dt.time(h1, m1), end))
    return tuple(ranges)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _mapping(node: yaml.Node) -> dict[str, yaml.Node]:
    return {k.value: v for k, v in node.value} if isinstance(node, yaml.MappingNode) else {}


def load_hours(path: Path | None) -> BusinessHours:
    """The schedule in ``path`` (always open when None); raises HoursError listing every problem."""
    if path is None or str(path) == "":
        return BusinessHours()
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HoursError([f"{path}:1: cannot read: {exc.strerror}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise HoursError([f"{path}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if not isinstance(root, yaml.MappingNode):
        raise HoursError([f"{path}:1: expected a mapping with timezone, weekly and holidays"])
    return _build(path, root)


def _build(path: Path, root: yaml.MappingNode) -> BusinessHours:
    problems: list[str] = []
    fields = _mapping(root)
    for key, node in fields.items():
        if key not in ("timezone", "weekly", "holidays"):
            problems.append(f"{path}:{_line(node)}: unknown key {key!r}")
    zone: dt.tzinfo = dt.UTC
    zone_node = fields.get("timezone")
    if zone_node is None:
        problems.append(f"{path}:1: missing timezone (an IANA name such as America/New_York)")
    else:
        try:
            zone = ZoneInfo(str(zone_node.value))
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"{path}:{_line(zone_node)}: unknown timezone {zone_node.value!r}")
    weekly: dict[int, tuple[Range, ...]] = {}
    for day, node in _mapping(fields.get("weekly", yaml.MappingNode("", []))).items():
        if day not in DAYS:
            problems.append(f"{path}:{_line(node)}: unknown day {day!r} (use monday … sunday)")
            continue
        weekly[DAYS.index(day)] = _parse_ranges(node.value, f"{path}:{_line(node)}", problems)
    holidays = set()
    holiday_node = fields.get("holidays")
    for node in holiday_node.value if isinstance(holiday_node, yaml.SequenceNode) else []:
        try:
            holidays.add(dt.date.fromisoformat(str(node.value)))
        except ValueError:
            problems.append(f"{path}:{_line(node)}: {node.value!r} is not a date (YYYY-MM-DD)")
    if problems:
        raise HoursError(problems)
    return BusinessHours(zone=zone, weekly=weekly, holidays=frozenset(holidays), always=False)
