"""Every message the service sends, as one list of kinds.

Each room that writes messages declares its kinds in its own ``messages.py`` (name, who
receives it, channels, the .ics method, and the function that reads the rest of its context);
``rdv_spie/messages.py`` gathers them into the one ``Registry`` the deliverer is given. The
composer (``compose.py``) builds what every message shares (territory, structure, person or
agent, appointment, link) and asks the kind for the rest, so adding a message touches its
room's list and its templates, nothing here.

A kind's templates are ``templates/messages/<name>.sms.txt`` for SMS and
``<name>.email.subject.txt``, ``.email.txt``, ``.email.html`` for e-mail.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Literal

from rdv_spie.db.uow import UnitOfWork
from rdv_spie.ical.event import CalendarEvent
from rdv_spie.notifications.links import Links
from rdv_spie.notifications.models import Notification
from rdv_spie.territories.models import Organisation

Method = Literal["REQUEST", "CANCEL"]
_SUFFIXES = {"sms": ("sms.txt",), "email": ("email.subject.txt", "email.txt", "email.html")}


class Recipient(StrEnum):
    """Who a message is written to: a person (SMS and e-mail) or an agent (e-mail)."""

    PERSON = "person"
    AGENT = "agent"


@dataclass(frozen=True, slots=True)
class Extra:
    """What a kind adds to the shared context: its own values, the structure that signs it
    (when not the journey's), and the event to attach as .ics."""

    context: dict[str, Any]
    organisation: Organisation | None = None
    event: CalendarEvent | None = None


# (uow, row, public URL) → the kind's part of the context, or the code of why it must not leave.
Builder = Callable[[UnitOfWork, Notification, str], Awaitable[Extra | str]]
# The same with the secret key, for a kind whose link is derived from it (an agent's
# single-use password link): its token is never stored, only rebuilt when the e-mail is written.
KeyedBuilder = Callable[[UnitOfWork, Notification, str, bytes], Awaitable[Extra | str]]


@dataclass(frozen=True, slots=True)
class MessageKind:
    """One message the service sends."""

    name: str
    recipient: Recipient
    channels: tuple[Literal["sms", "email"], ...]
    ics: Method | None = None
    build: Builder | None = None
    build_keyed: KeyedBuilder | None = None
    # Not sent once its appointment was moved, cancelled or has started (a confirmation, a
    # reminder); a cancellation is sent whatever the appointment became.
    follows_appointment: bool = False
    # The back-office pages it links to (``links.py``): given by the registry, which knows
    # every room's paths.
    links: Links | None = None

    def templates(self) -> list[str]:
        """The template files this kind needs, under templates/messages/."""
        return [f"{self.name}.{suffix}" for c in self.channels for suffix in _SUFFIXES[c]]


class UnknownMessage(LookupError):
    """A row names a message no room declares: a bug, never sent."""


class Registry:
    """The kinds of every room, by name, each with its page links (``links``, by name)."""

    def __init__(
        self, kinds: Iterable[MessageKind], links: Mapping[str, Links] | None = None
    ) -> None:
        links = links or {}
        self._kinds: dict[str, MessageKind] = {}
        for kind in kinds:
            if kind.name in self._kinds:
                raise ValueError(f"message {kind.name!r} is declared twice")
            if kind.recipient is Recipient.AGENT and kind.channels != ("email",):
                raise ValueError(f"message {kind.name!r}: agents are written to by e-mail")
            found = links.get(kind.name)
            self._kinds[kind.name] = kind if found is None else replace(kind, links=found)
        unknown = sorted(set(links) - set(self._kinds))
        if unknown:
            raise ValueError(f"links for messages no room declares: {unknown}")

    def __getitem__(self, name: str) -> MessageKind:
        try:
            return self._kinds[name]
        except KeyError:
            raise UnknownMessage(f"no room declares the message {name!r}") from None

    def __iter__(self) -> Iterator[MessageKind]:
        return iter(self._kinds.values())

    def names(self) -> frozenset[str]:
        """Every message name."""
        return frozenset(self._kinds)
