"""The on-call schedule (``oncall.yaml``) and the alert-routing table, checked once at start-up.

The shape is the deployment document's ``On-Call Schedule`` block::

    escalation:
      levels:
        - name: primary
          contacts:
            - {type: pagerduty, service_key: "${PAGERDUTY_SERVICE_KEY}"}
          wait_minutes: 5          # fractional allowed (0.05 = 3 seconds)
        - name: secondary
          contacts:
            - {type: phone, number: "${ONCALL_PHONE}"}
            - {type: email, address: "${ONCALL_EMAIL}"}
          wait_minutes: 15
      quiet_hours: {start: "22:00", end: "08:00", severity_override: critical}

plus a ``webhook`` contact (``url``: a Slack-compatible incoming webhook) and the optional
``alert_routing`` section, which maps each alert type to the levels that are paged first
(``primary``) and after it (``escalation``)::

    alert_routing:
      security_alert: {primary: security, escalation: [management]}
      guest_complaint_sla: {primary: duty_manager, escalation: [gm]}

A contact whose value is empty (an unset ``${VARIABLE}``) is kept but never paged; ``jack
doctor`` names it.  Every other problem is one line naming the key, the value and what is
expected, and refuses the start.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Lowest first: an alert pages during quiet hours when it is at the override or above.
SEVERITIES = ("info", "warning", "critical")
#: Contact type -> the key that holds its target.
CONTACT_KEYS = {"pagerduty": "service_key", "phone": "number", "email": "address", "webhook": "url"}
#: The deployment document's alert-routing table.
ALERT_TYPES = (
    "container_unhealthy",
    "database_error",
    "channel_outage",
    "ai_provider_down",
    "security_alert",
    "guest_complaint_sla",
    "other",
)
#: Types whose default route has no escalation: the AI provider has an automatic fallback.
NO_ESCALATION_BY_DEFAULT = ("ai_provider_down",)
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{5,}$")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else 1


@dataclass(frozen=True)
class Contact:
    type: str
    target: str

    @property
    def key(self) -> str:
        return CONTACT_KEYS[self.type]

    def shown(self) -> str:
        """The target for lists and logs: a PagerDuty key is a secret, the rest is staff's own data."""
        if self.type == "pagerduty":
            return f"pagerduty:...{self.target[-4:]}" if self.target else "pagerduty:(unset)"
        return f"{self.type}:{self.target or '(unset)'}"


@dataclass(frozen=True)
class Level:
    name: str
    contacts: tuple[Contact, ...]
    wait_minutes: float


@dataclass(frozen=True)
class QuietHours:
    start: dt.time
    end: dt.time
    severity_override: str

    def active(self, local: dt.datetime) -> bool:
        """Whether ``local`` (the hotel's wall clock) falls inside the quiet hours; they may span midnight."""
        now = local.time().replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def pages(self, severity: str) -> bool:
        return severity_rank(severity) >= severity_rank(self.severity_override)

    def ends_after(self, local: dt.datetime) -> dt.datetime:
        """The first moment after ``local`` when the quiet hours are over (same timezone)."""
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += dt.timedelta(days=1)
        return end


@dataclass(frozen=True)
class OnCall:
    levels: tuple[Level, ...] = ()
    quiet_hours: QuietHours | None = None
    #: Alert type -> names of the levels paged, in order (primary first).
    routing: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def path(self, alert_type: str) -> tuple[Level, ...]:
        """The levels an alert of ``alert_type`` walks through, in order."""
        names = self.routing.get(alert_type)
        if names is None:
            if alert_type in NO_ESCALATION_BY_DEFAULT:
                return self.levels[:1]
            return self.levels
        by_name = {level.name: level for level in self.levels}
        return tuple(by_name[name] for name in names)

    def empty_contacts(self) -> list[str]:
        """``escalation.levels[i].contacts[j].key`` of each contact that is never paged because it is empty."""
        return [
            f"escalation.levels[{i}].contacts[{j}].{contact.key} (level {level.name}, {contact.type})"
            for i, level in enumerate(self.levels)
            for j, contact in enumerate(level.contacts)
            if not contact.target
        ]


def _wait_minutes(value: Any, where: str, errors: list[str]) -> float:
    if isinstance(value, bool) or value is None:
        errors.append(f"{where}={value!r}: expected a number of minutes of at least 0 (fractions allowed, e.g. 0.5)")
        return 0.0
    try:
        minutes = float(str(value).strip())
    except ValueError:
        errors.append(f"{where}={value!r}: expected a number of minutes of at least 0 (fractions allowed, e.g. 0.5)")
        return 0.0
    if minutes < 0 or minutes != minutes or minutes == float("inf"):
        errors.append(f"{where}={value!r}: expected a number of minutes of at least 0 (fractions allowed, e.g. 0.5)")
        return 0.0
    return minutes


def _contact(raw: Any, where: str, errors: list[str]) -> Contact | None:
    if not isinstance(raw, Mapping):
        errors.append(f"{where}={raw!r}: expected a mapping with type and its value, e.g. {{type: email, address: ops@hotel.example}}")
        return None
    kind = raw.get("type")
    if kind not in CONTACT_KEYS:
        errors.append(f"{where}.type={kind!r}: expected one of {', '.join(CONTACT_KEYS)}")
        return None
    key = CONTACT_KEYS[kind]
    unknown = sorted(set(raw) - {"type", key})
    if unknown:
        errors.append(f"{where}.{unknown[0]}={raw[unknown[0]]!r}: not a key of a {kind} contact; expected only type and {key}")
        return None
    if key not in raw:
        errors.append(f"{where}.{key}: missing; a {kind} contact needs {key}")
        return None
    value = raw.get(key)
    target = "" if value is None else str(value).strip()
    if not isinstance(value, str | int | type(None)) or isinstance(value, bool):
        errors.append(f"{where}.{key}={value!r}: expected text")
        return None
    if target:
        if kind == "phone" and not _PHONE.match(target):
            errors.append(f"{where}.number={target!r}: expected a phone number in E.164, e.g. +15550100")
            return None
        if kind == "email" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", target):
            errors.append(f"{where}.address={target!r}: expected an e-mail address, e.g. oncall@hotel.example")
            return None
        if kind == "webhook" and not re.match(r"^https?://\S+$", target):
            errors.append(f"{where}.url={target!r}: expected an http:// or https:// URL")
            return None
        if kind == "pagerduty" and not re.fullmatch(r"[A-Za-z0-9_-]{8,64}", target):
            errors.append(f"{where}.service_key={'...' + target[-4:]!r}: expected a PagerDuty integration key (letters and digits)")
            return None
    return Contact(kind, target)


def _level(raw: Any, where: str, errors: list[str]) -> Level | None:
    if not isinstance(raw, Mapping):
        errors.append(f"{where}={raw!r}: expected a mapping with name, contacts and wait_minutes")
        return None
    before = len(errors)
    unknown = sorted(set(raw) - {"name", "contacts", "wait_minutes"})
    if unknown:
        errors.append(f"{where}.{unknown[0]}={raw[unknown[0]]!r}: not a key of a level; expected name, contacts and wait_minutes")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(f"{where}.name={name!r}: expected the level's name, e.g. primary")
    contacts_raw = raw.get("contacts")
    contacts: list[Contact] = []
    if not isinstance(contacts_raw, list) or not contacts_raw:
        errors.append(f"{where}.contacts={contacts_raw!r}: expected a list of at least one contact")
    else:
        for j, item in enumerate(contacts_raw):
            contact = _contact(item, f"{where}.contacts[{j}]", errors)
            if contact is not None:
                contacts.append(contact)
    if "wait_minutes" not in raw:
        errors.append(f"{where}.wait_minutes: missing; expected a number of minutes before the next level is paged")
        wait = 0.0
    else:
        wait = _wait_minutes(raw.get("wait_minutes"), f"{where}.wait_minutes", errors)
    if len(errors) > before:
        return None
    return Level(str(name).strip(), tuple(contacts), wait)


def _time(value: Any, where: str, errors: list[str]) -> dt.time | None:
    # YAML 1.1 reads an unquoted 22:00 as the number 1320 (minutes in base 60).
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return dt.time(value // 60, value % 60)
    match = _TIME.match(str(value).strip()) if isinstance(value, str) else None
    if not match:
        errors.append(f"{where}={value!r}: expected a time of day as \"HH:MM\" (00:00 to 23:59)")
        return None
    return dt.time(int(match.group(1)), int(match.group(2)))


def _quiet_hours(raw: Any, errors: list[str]) -> QuietHours | None:
    where = "escalation.quiet_hours"
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        errors.append(f"{where}={raw!r}: expected a mapping with start, end and severity_override")
        return None
    unknown = sorted(set(raw) - {"start", "end", "severity_override"})
    if unknown:
        errors.append(f"{where}.{unknown[0]}={raw[unknown[0]]!r}: not a key of quiet_hours; expected start, end and severity_override")
    start = _time(raw.get("start"), f"{where}.start", errors)
    end = _time(raw.get("end"), f"{where}.end", errors)
    override = raw.get("severity_override", "critical")
    if override not in SEVERITIES:
        errors.append(f"{where}.severity_override={override!r}: expected one of {', '.join(SEVERITIES)}")
        return None
    if start is None or end is None:
        return None
    return QuietHours(start, end, str(override))


def _routing(raw: Any, levels: tuple[Level, ...], errors: list[str]) -> dict[str, tuple[str, ...]]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        errors.append(f"alert_routing={raw!r}: expected a mapping of alert type to {{primary, escalation}}")
        return {}
    names = [level.name for level in levels]
    routing: dict[str, tuple[str, ...]] = {}
    for kind, entry in raw.items():
        where = f"alert_routing.{kind}"
        if kind not in ALERT_TYPES:
            errors.append(f"{where}: unknown alert type {kind!r}; expected one of {', '.join(ALERT_TYPES)}")
            continue
        if not isinstance(entry, Mapping) or "primary" not in entry:
            errors.append(f"{where}={entry!r}: expected a mapping with primary (a level name) and optional escalation (a list of level names)")
            continue
        escalation = entry.get("escalation") or []
        if isinstance(escalation, str):
            escalation = [escalation]
        path = [entry["primary"], *escalation] if isinstance(escalation, list) else None
        if path is None:
            errors.append(f"{where}.escalation={escalation!r}: expected a list of level names")
            continue
        bad = [name for name in path if name not in names]
        if bad:
            errors.append(f"{where}: level {bad[0]!r} is not in escalation.levels; expected one of {', '.join(names) or '(no levels defined)'}")
            continue
        routing[str(kind)] = tuple(str(name) for name in path)
    return routing


def parse_oncall(escalation: Any, alert_routing: Any = None, *, pagerduty_key: str = "") -> tuple[OnCall, list[str]]:
    """Read the ``escalation`` and ``alert_routing`` sections; return the schedule and one line per problem.

    Without an ``escalation`` section, a set ``PAGERDUTY_SERVICE_KEY`` makes one level paging it.
    """
    errors: list[str] = []
    if escalation is None:
        levels: tuple[Level, ...] = ()
        if pagerduty_key:
            levels = (Level("primary", (Contact("pagerduty", pagerduty_key),), 0.0),)
        return OnCall(levels, None, _routing(alert_routing, levels, errors)), errors
    if not isinstance(escalation, Mapping):
        return OnCall(), [f"escalation={escalation!r}: expected a mapping with levels and quiet_hours"]
    unknown = sorted(set(escalation) - {"levels", "quiet_hours"})
    if unknown:
        errors.append(f"escalation.{unknown[0]}={escalation[unknown[0]]!r}: not a key of escalation; expected levels and quiet_hours")
    raw_levels = escalation.get("levels")
    parsed: list[Level] = []
    if not isinstance(raw_levels, list) or not raw_levels:
        errors.append(f"escalation.levels={raw_levels!r}: expected a list of at least one level")
    else:
        for i, item in enumerate(raw_levels):
            level = _level(item, f"escalation.levels[{i}]", errors)
            if level is not None:
                parsed.append(level)
        seen: set[str] = set()
        for i, level in enumerate(parsed):
            if level.name in seen:
                errors.append(f"escalation.levels[{i}].name={level.name!r}: another level has this name; expected unique names")
            seen.add(level.name)
    levels = tuple(parsed)
    quiet = _quiet_hours(escalation.get("quiet_hours"), errors)
    routing = _routing(alert_routing, levels, errors)
    return OnCall(levels, quiet, routing), errors
