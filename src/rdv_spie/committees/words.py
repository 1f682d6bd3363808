"""A series' rule in plain French: « un jeudi sur deux à 8 h 30 », « le premier mardi du mois
à 14 h ». Pure: the RRULE shapes the series pages build (weekly, every n weeks, the n-th
weekday of the month) are said in words; any other shape gets a generic sentence."""

from __future__ import annotations

from datetime import time

_DAYS = {
    "MO": "lundi",
    "TU": "mardi",
    "WE": "mercredi",
    "TH": "jeudi",
    "FR": "vendredi",
    "SA": "samedi",
    "SU": "dimanche",
}
_ORDINALS = {1: "premier", 2: "deuxième", 3: "troisième", 4: "quatrième", -1: "dernier"}
_EVERY = {2: "deux", 3: "trois", 4: "quatre"}


def at(moment: time) -> str:
    """« 8 h 30 », « 14 h »."""
    return f"{moment.hour} h" if moment.minute == 0 else f"{moment.hour} h {moment.minute:02d}"


def _parts(rule: str) -> dict[str, str]:
    text = rule.strip().upper().removeprefix("RRULE:").replace(" ", "")
    return dict(p.split("=", 1) for p in text.split(";") if "=" in p)


def rule_in_words(rule: str, start_time: time) -> str:
    """The rule and its start time as a French sentence (without a capital or a full stop)."""
    parts = _parts(rule)
    extra = set(parts) - {"FREQ", "INTERVAL", "BYDAY", "WKST"}
    try:
        interval = int(parts.get("INTERVAL", "1"))
    except ValueError:
        interval = 0
    day = parts.get("BYDAY", "")
    hour = at(start_time)
    if not extra and interval >= 1:
        if parts.get("FREQ") == "WEEKLY" and day in _DAYS:
            if interval == 1:
                return f"chaque {_DAYS[day]} à {hour}"
            if interval in _EVERY:
                return f"un {_DAYS[day]} sur {_EVERY[interval]} à {hour}"
        if parts.get("FREQ") == "MONTHLY" and interval == 1 and day[-2:] in _DAYS:
            try:
                nth = int(day[:-2])
            except ValueError:
                nth = 0
            if nth in _ORDINALS:
                return f"le {_ORDINALS[nth]} {_DAYS[day[-2:]]} du mois à {hour}"
    return f"selon un calendrier particulier, à {hour}"


def deadline_in_words(days_before: int, deadline: time) -> str:
    """« 3 jours avant, 14 h », « la veille, 12 h », « le jour même, 9 h »."""
    if days_before == 0:
        when = "le jour même"
    elif days_before == 1:
        when = "la veille"
    else:
        when = f"{days_before} jours avant"
    return f"{when}, {at(deadline)}"


# The frequencies the series form offers, and the rule each builds.
WEEKLY, FORTNIGHTLY, MONTHLY = "weekly", "fortnightly", "monthly"
FREQUENCIES = (WEEKLY, FORTNIGHTLY, MONTHLY)
WEEKDAYS = tuple(_DAYS)
NTHS = (1, 2, 3, 4, -1)


def build_rule(frequency: str, weekday: str, nth: int = 1) -> str:
    """The RRULE of a form's choices (checked by the caller: values from the lists)."""
    if frequency == WEEKLY:
        return f"FREQ=WEEKLY;BYDAY={weekday}"
    if frequency == FORTNIGHTLY:
        return f"FREQ=WEEKLY;INTERVAL=2;BYDAY={weekday}"
    return f"FREQ=MONTHLY;BYDAY={nth}{weekday}"


def read_rule(rule: str) -> tuple[str, str, int] | None:
    """The form's choices (frequency, weekday, nth) for a rule it can build, else None."""
    parts = _parts(rule)
    if set(parts) - {"FREQ", "INTERVAL", "BYDAY", "WKST"}:
        return None
    interval = parts.get("INTERVAL", "1")
    day = parts.get("BYDAY", "")
    if parts.get("FREQ") == "WEEKLY" and day in _DAYS and interval in ("1", "2"):
        return (WEEKLY if interval == "1" else FORTNIGHTLY, day, 1)
    if parts.get("FREQ") == "MONTHLY" and interval == "1" and day[-2:] in _DAYS:
        try:
            nth = int(day[:-2])
        except ValueError:
            return None
        if nth in NTHS:
            return (MONTHLY, day[-2:], nth)
    return None
