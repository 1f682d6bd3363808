"""Matching rows of people to the people already known (pure: no I/O). The rules are
intake's (see ``intake.py``): an external id alone; an e-mail or a phone number only with the
same last and first names (and birth date when both sides know it); a row whose ids contradict
its match, or whose contact and names fit several people, is blocked with the cell at fault.
``classify`` runs them over a batch: the import writes what it decides, the preview only
counts it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from rdv_spie.people.contact import letters
from rdv_spie.people.models import Person
from rdv_spie.people.rows import PersonRow, RowError

EXTERNAL_IDS = ("caf_number", "france_travail_id", "departement_id")
UPDATABLE = (
    "birth_on",
    "phone",
    "email",
    "postcode",
    *EXTERNAL_IDS,
    "sms_consent",
    "email_consent",
    "prefers_call",
)


@dataclass(slots=True, eq=False)  # identity: matching puts people in sets
class NewPerson:
    """A person first seen in this batch: a plain record (an ORM instance costs more to build
    than to insert), inserted in bulk at the end of the batch."""

    id: uuid.UUID
    first_name: str
    last_name: str
    birth_on: date | None
    phone: str | None
    email: str | None
    postcode: str | None
    caf_number: str | None
    france_travail_id: str | None
    departement_id: str | None
    sms_consent: bool
    email_consent: bool
    prefers_call: bool


Someone = Person | NewPerson


def _name_key(name: str) -> str:
    """A name as the identity check compares it (case, accents, spaces and punctuation
    ignored), keeping its digits ("Nom1" is not "Nom2"); a name of neither letters nor digits
    is kept as written, so it still tells people apart."""
    return letters(name) + "".join(filter(str.isdigit, name)) or name.casefold().strip()


def _same_birth(a: date | None, b: date | None) -> bool:
    """Birth dates only tell people apart when both are known."""
    return a is None or b is None or a == b


def _agrees(a: str, b: str) -> bool:
    """Two names as written are one, or one is the other's first words ("Jean" /
    "Jean-Pierre"), never a longer word ("Louis" / "Louise")."""
    mine, theirs = _words(a), _words(b)
    if not mine or not theirs:
        return False
    if "".join(mine) == "".join(theirs):  # "Jean Pierre" / "Jean-Pierre" / "JeanPierre"
        return True
    short, long = sorted((mine, theirs), key=len)
    return long[: len(short)] == short


@lru_cache(maxsize=4096)  # names repeat: split and folded once; emptied after each batch
def _words(name: str) -> tuple[str, ...]:
    """A name's words as the identity check compares them (accents, case ignored)."""
    return tuple(w for w in (letters(part) for part in _WORD.findall(name)) if w)


_WORD = re.compile(r"[^\W_]+")


class Index:
    """Existing people of the batch's territory, by each way a row can match them: an external
    id alone; a phone number or an e-mail address only with the same last and first names."""

    def __init__(self, people: Iterable[Someone]) -> None:
        self.by_id: dict[tuple[str, str], Someone] = {}
        self.by_email: dict[tuple[str, str, str], list[Someone]] = {}
        self.by_phone: dict[tuple[str, str, str], list[Someone]] = {}
        self.keys: dict[str, str] = {}  # a batch's names repeat: normalise each once
        for person in people:
            self.add(person)

    def names(self, someone: PersonRow | Someone) -> tuple[str, str]:
        """The last and first names as compared."""
        keys = self.keys
        last, first = someone.last_name, someone.first_name
        if last not in keys:
            keys[last] = _name_key(last)
        if first not in keys:
            keys[first] = _name_key(first)
        return keys[last], keys[first]

    def add(self, person: Someone) -> None:
        for name in EXTERNAL_IDS:
            value = getattr(person, name)
            if value:
                self.by_id[(name, value)] = person
        last, first = self.names(person)
        if person.email:
            _file(self.by_email, (person.email.casefold(), last, first), person)
        if person.phone:
            _file(self.by_phone, (person.phone, last, first), person)

    def match(self, row: PersonRow) -> Someone | RowError | None:
        by_ids = {
            name: self.by_id[(name, getattr(row, name))]
            for name in EXTERNAL_IDS
            if getattr(row, name) and (name, getattr(row, name)) in self.by_id
        }
        if len(set(by_ids.values())) > 1:
            return _blocked(row, "its external ids belong to different people")
        names = self.names(row)
        if by_ids:
            name, found = next(iter(by_ids.items()))
            why = _stranger(row, names, found, self.names(found))
            if why is not None:
                return _blocked(row, f"{name} {why}", name, code="ambiguous_identity")
        else:
            last, first = names
            contacts = (
                ("email", self.by_email, row.email.casefold() if row.email else None),
                ("phone", self.by_phone, row.phone),
            )
            for name, index, value in contacts:
                if value is None:
                    continue
                same = [
                    p
                    for p in index.get((value, last, first), ())
                    if _same_birth(p.birth_on, row.birth_on)
                ]
                if len(same) > 1 and row.birth_on is not None:
                    same = [p for p in same if p.birth_on == row.birth_on] or same
                if len(same) > 1:
                    why = (
                        f"{name} and names fit several people; add the birth date or an external id"
                    )
                    return _blocked(row, why, name, code="ambiguous_identity")
                if same:
                    found = same[0]
                    break
            else:
                return None
        for name in EXTERNAL_IDS:
            mine, theirs = getattr(row, name), getattr(found, name)
            if mine and theirs and mine != theirs:
                return _blocked(row, f"{name} differs from the matching person's", name)
        return found


def _file(
    index: dict[tuple[str, str, str], list[Someone]], key: tuple[str, str, str], person: Someone
) -> None:
    bucket = index.setdefault(key, [])
    if person not in bucket:
        bucket.append(person)


def _stranger(
    row: PersonRow, names: tuple[str, str], found: Someone, theirs: tuple[str, str]
) -> str | None:
    """Why the person an external id points at is not the row's, or None when they may be
    the same: the first name kept (a new last name after a marriage), or the last name kept
    with the same birth date (a first name spelt otherwise), or the two names swapped; never
    another birth date. A CAF number is a household's: the spouse or a child shares it."""
    (last, first), (their_last, their_first) = names, theirs
    both_born = row.birth_on is not None and found.birth_on is not None
    if not (
        _agrees(row.first_name, found.first_name)
        or (last == their_first and first == their_last)
        or (last == their_last and both_born and row.birth_on == found.birth_on)
    ):
        return "belongs to a person recorded under another name"
    if both_born and row.birth_on != found.birth_on:
        return "belongs to a person recorded with another birth date"
    return None


def _blocked(
    row: PersonRow, why: str, name: str | None = None, *, code: str = "conflicting_external_id"
) -> RowError:
    column, header = row.where(name) if name else (None, None)
    return RowError(
        line=row.line,
        column=column,
        header=header,
        field=name,
        code=code,
        detail=f"row blocked: {why}; fix the file or the person's record",
    )


def update(person: Someone, row: PersonRow) -> bool:
    """Bring a matched person up to date with the row; True when something changed. Empty
    cells never erase what is known."""
    changed = False
    for name in UPDATABLE:
        value = getattr(row, name)
        if value is None or getattr(person, name) == value:
            continue
        setattr(person, name, value)
        changed = True
    return changed


def new_person(row: PersonRow) -> NewPerson:
    """A person first seen in a row."""
    return NewPerson(
        uuid.uuid4(),
        row.first_name,
        row.last_name,
        row.birth_on,
        row.phone,
        row.email,
        row.postcode,
        row.caf_number,
        row.france_travail_id,
        row.departement_id,
        row.sms_consent,
        row.email_consent,
        row.prefers_call,
    )


@dataclass(slots=True)
class Outcome:
    """What matching decided for a batch: each good row with its person (found or new), the
    people to create, how many were changed or left as they were, the rows blocked."""

    matched: list[tuple[PersonRow, Someone]] = field(default_factory=list)
    created: list[NewPerson] = field(default_factory=list)
    updated: int = 0
    unchanged: int = 0
    blocked: list[RowError] = field(default_factory=list)


def classify(index: Index, batch: Iterable[PersonRow]) -> Outcome:
    """Match each row in turn (a row sees the people created or changed by the rows before
    it), bringing the people found up to date with their row."""
    outcome = Outcome()
    try:
        for row in batch:
            found = index.match(row)
            if isinstance(found, RowError):
                outcome.blocked.append(found)
                continue
            if found is None:
                found = new_person(row)
                outcome.created.append(found)
                index.add(found)
            elif update(found, row):
                index.add(found)
                outcome.updated += 1
            else:
                outcome.unchanged += 1
            outcome.matched.append((row, found))
    finally:
        # People's names stay in the process only while their batch is matched.
        _words.cache_clear()
    return outcome
