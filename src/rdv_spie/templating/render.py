"""Rendering: turns a name and a context into the words of an SMS, an e-mail or a page.

Owns the one Jinja environment for messages and pages (autoescaping ``.html`` templates only,
so SMS and plain-text e-mails never carry ``&amp;``; undefined variables are errors), the
French filters (dates, times, durations, phone numbers) and the territory overrides: a template
under ``templates/territories/<slug>/`` wins over the one at the same path under ``templates/``.

Must never hold words itself (every word a person reads lives in ``templates/``), read the
database, the clock or the settings, nor send anything. SMS always leave here as GSM-7.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal

import phonenumbers
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    Undefined,
    select_autoescape,
)

from rdv_spie.templating.gsm import segments, to_gsm7

Channel = Literal["sms", "email"]

# Keys the renderer adds to every context; a caller's value under these names is replaced.
RESERVED_KEYS = frozenset({"layout", "subject"})

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_SUFFIXES: dict[Channel, tuple[str, ...]] = {
    "sms": ("sms.txt",),
    "email": ("email.subject.txt", "email.txt", "email.html"),
}
_LAYOUT = "_layout.email.html"
_BLANK_LINES = re.compile(r"\n{3,}")

_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
# Regions numbered in the French plan: their national form ("03 23 24 60 00", "0262 12 34 56")
# is what a person dials from France.
_FRENCH_PLAN = frozenset({"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "WF", "NC", "PF"})


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """The three parts of one e-mail."""

    subject: str
    text: str
    html: str


class Renderer:
    """Renders SMS, e-mails and pages from ``templates_dir`` with one Jinja environment."""

    def __init__(self, templates_dir: Path) -> None:
        self._env = Environment(
            loader=FileSystemLoader(templates_dir),
            autoescape=select_autoescape(
                enabled_extensions=("html",), default_for_string=False, default=False
            ),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(french_filters())

    @property
    def environment(self) -> Environment:
        """The environment itself, for callers that need the same loader and filters."""
        return self._env

    def render_sms(
        self, name: str, context: Mapping[str, Any], *, territory_slug: str | None = None
    ) -> str:
        """The SMS body for message ``name``: one line of GSM-7 text."""
        template = self._select(name, "sms.txt", territory_slug)
        return _one_line(to_gsm7(template.render(_base_context(context))))

    def render_email(
        self, name: str, context: Mapping[str, Any], *, territory_slug: str | None = None
    ) -> RenderedEmail:
        """Subject, plain text and HTML of the e-mail for message ``name``."""
        values = _base_context(context)
        subject = _one_line(self._select(name, "email.subject.txt", territory_slug).render(values))
        values["subject"] = subject
        text = self._select(name, "email.txt", territory_slug).render(values)
        values["layout"] = self._env.select_template(self._candidates(_LAYOUT, territory_slug))
        html = self._select(name, "email.html", territory_slug).render(values)
        return RenderedEmail(subject=subject, text=_tidy_text(text), html=html.strip() + "\n")

    def render_page(
        self, name: str, context: Mapping[str, Any], *, territory_slug: str | None = None
    ) -> str:
        """The HTML page ``templates/pages/<name>.html`` (escaped), territory override first."""
        if not _NAME.fullmatch(name):
            raise ValueError(f"invalid page name {name!r}")
        names = [f"pages/{name}.html"]
        if territory_slug is not None:
            names.insert(0, f"territories/{_slug(territory_slug)}/pages/{name}.html")
        return self._env.select_template(names).render(_base_context(context))

    def macro(self, template: str, name: str, *args: Any) -> str:
        """The text of macro ``name`` in ``templates/<template>`` (words a page also shows,
        needed outside a page, e.g. in an .ics file)."""
        function = getattr(self._env.get_template(template).module, name)
        return str(function(*args))

    def has_template(
        self, name: str, channel: Channel, *, territory_slug: str | None = None
    ) -> bool:
        """Whether message ``name`` can be rendered for ``channel`` (all its parts exist)."""
        try:
            for suffix in _SUFFIXES[channel]:
                self._select(name, suffix, territory_slug)
        except TemplateNotFound:
            return False
        return True

    def _select(self, name: str, suffix: str, territory_slug: str | None) -> Template:
        if not _NAME.fullmatch(name):
            raise ValueError(f"invalid message name {name!r}")
        return self._env.select_template(self._candidates(f"{name}.{suffix}", territory_slug))

    @staticmethod
    def _candidates(filename: str, territory_slug: str | None) -> list[str]:
        names = [f"messages/{filename}"]
        if territory_slug is not None:
            names.insert(0, f"territories/{_slug(territory_slug)}/messages/{filename}")
        return names


def french_filters() -> dict[str, Callable[..., Any]]:
    """The filters every template may use, by name."""
    return {
        "date_fr": date_fr,
        "date_court": date_court,
        "heure": heure,
        "jour_heure": jour_heure,
        "duree": duree,
        "phone_fr": phone_fr,
        "sms_fit": sms_fit,
        "sms_levels": sms_levels,
    }


def date_fr(value: date, *, annee: bool = True) -> str:
    """``mardi 8 décembre 2026``, ``mardi 1er décembre`` (without the year)."""
    _defined(value)
    day = "1er" if value.day == 1 else str(value.day)
    text = f"{_DAYS[value.weekday()]} {day} {_MONTHS[value.month - 1]}"
    return f"{text} {value.year}" if annee else text


def date_court(value: date, *, annee: bool = True, jour: bool = False) -> str:
    """``08/12/2026``, or ``08/12`` without the year; ``mardi 08/12`` with the weekday."""
    _defined(value)
    text = f"{value:%d/%m/%Y}" if annee else f"{value:%d/%m}"
    return f"{_DAYS[value.weekday()]} {text}" if jour else text


def heure(value: datetime | time) -> str:
    """``14h30``, ``9h``: the wall-clock time of ``value`` as French public services write it."""
    _defined(value)
    return f"{value.hour}h" if value.minute == 0 else f"{value.hour}h{value.minute:02d}"


def jour_heure(value: datetime, *, annee: bool = True) -> str:
    """``mardi 8 décembre 2026 à 14h30``."""
    _defined(value)
    return f"{date_fr(value, annee=annee)} à {heure(value)}"


def duree(minutes: int) -> str:
    """``45 minutes``, ``1 heure``, ``1h30``."""
    _defined(minutes)
    hours, rest = divmod(minutes, 60)
    if hours == 0:
        return f"{rest} minute" if rest == 1 else f"{rest} minutes"
    if rest == 0:
        return "1 heure" if hours == 1 else f"{hours} heures"
    return f"{hours}h{rest:02d}"


# Metropolitan France, in E.164 or written nationally (spaces or dots between pairs); 08
# numbers are grouped apart ("0 8xx"), so they go through the parser.
_MAINLAND = re.compile(r"\+33[1-79][0-9]{8}")
_NATIONAL = re.compile(r"0[1-79](?:[ .]?[0-9]{2}){4}")


def phone_fr(value: str | None) -> str:
    """``03 23 24 60 00`` from ``+33323246000``; foreign numbers in international form."""
    _defined(value)
    if not value:
        return ""
    if _MAINLAND.fullmatch(value) or _NATIONAL.fullmatch(value):
        # The usual cases, without parsing (0.2 ms an SMS): the last 9 digits, grouped.
        digits = "".join(filter(str.isdigit, value))[-9:]
        return " ".join(["0" + digits[0], *(digits[i : i + 2] for i in range(1, 9, 2))])
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return value
    region = phonenumbers.region_code_for_number(number)
    form = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if region in _FRENCH_PLAN
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return str(phonenumbers.format_number(number, form))


def sms_fit(candidates: Iterable[str], max_segments: int = 1) -> str:
    """The first candidate that fits ``max_segments`` SMS segments once rendered, else the last.

    Lets an SMS template offer its best wording first and shorter ones after it, so a long
    organisation name costs words, never a second segment.
    """
    chosen = ""
    for candidate in candidates:
        chosen = str(candidate)
        if segments(_one_line(to_gsm7(chosen))) <= max_segments:
            return chosen
    return chosen


def sms_levels(text: Callable[[int], Any], count: int) -> Iterator[str]:
    """``text(0)``, ``text(1)``… ``text(count - 1)``, made one at a time, for ``sms_fit``.

    ``text`` is a template's macro whose ``level`` says how many details to leave out, in the
    order the template states, so ``text|sms_levels(8)|sms_fit`` keeps every detail that fits.
    """
    for level in range(count):
        yield str(text(level))


def _slug(territory_slug: str) -> str:
    if not _SLUG.fullmatch(territory_slug):
        raise ValueError(f"invalid territory slug {territory_slug!r}")
    return territory_slug


def _defined(value: object) -> None:
    # A filter receives a missing variable as an Undefined that formats without raising;
    # StrictUndefined must still fail loudly, naming the variable.
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()


def _base_context(context: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in context.items() if key not in RESERVED_KEYS}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _tidy_text(text: str) -> str:
    lines = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return _BLANK_LINES.sub("\n\n", lines) + "\n"
