"""A booking refused at its last step, recovered from one way on every page that books (the
public pages and the back office): the booking's writes run in a savepoint, so a refusal
undoes them alone and the page can still read; the page then shows the slots again, keeping
what was chosen, with a notice of the kind of refusal: the slot was taken meanwhile (409) or
the booking is refused (422)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Conflict, Invalid

T = TypeVar("T")

# The kinds of notice (the public page words them by kind, the back office by ``code``).
TAKEN = "taken"  # "Ce créneau vient d'être réservé."
GONE = "gone"  # "Ce créneau n'est plus disponible."


@dataclass(frozen=True, slots=True)
class Refused:
    """Why a booking did not happen: the kind of notice, the page's status, and the code and
    field of the refusal."""

    notice: str
    status: int
    code: str
    field: str | None


def refused(exc: Conflict | Invalid) -> Refused:
    """A slot taken meanwhile (a conflict) is a 409; any other refusal a 422."""
    if isinstance(exc, Conflict):
        return Refused(TAKEN, 409, exc.code, exc.field)
    return Refused(GONE, 422, exc.code, exc.field)


async def attempt(uow: UnitOfWork, write: Callable[[], Awaitable[T]]) -> T | Refused:
    """Run a booking's writes in a savepoint: what they return, or why they were refused
    (then only they are undone; the transaction, its locks and its reads go on)."""
    try:
        async with uow.session.begin_nested():
            return await write()
    except (Conflict, Invalid) as exc:
        return refused(exc)
