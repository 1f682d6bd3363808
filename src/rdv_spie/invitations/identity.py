"""The light identity check of the public pages: the first letters of the last name.

Owns the comparison (accents, case, spaces and punctuation ignored) and the counting of wrong
answers on the journey, up to a lock. Never opens or ends browser sessions itself beyond
ending every session of a journey that just locked; never reads a request.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update

from rdv_spie.db.uow import UnitOfWork
from rdv_spie.people.contact import letters
from rdv_spie.people.models import Journey
from rdv_spie.web import sessions

LETTERS = 3


def expected(last_name: str) -> str:
    """What the person must type: the first three letters, or the whole name when shorter."""
    return letters(last_name)[:LETTERS]


def matches(answer: str, last_name: str) -> bool:
    """Whether ``answer`` gives the name's first letters (more letters of the name are fine)."""
    name = letters(last_name)
    given = letters(answer)
    want = name[:LETTERS]
    return bool(want) and len(given) >= len(want) and name.startswith(given)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one answer: passed, or how many tries are left (0: locked)."""

    passed: bool
    tries_left: int

    @property
    def locked(self) -> bool:
        """The journey is locked: no answer is accepted any more."""
        return not self.passed and self.tries_left <= 0


async def answer(
    uow: UnitOfWork, journey: Journey, last_name: str, given: str, *, max_tries: int
) -> Outcome:
    """Check one answer: a wrong one counts (atomically, in the caller's transaction) and the
    last allowed one locks the journey and ends all its sessions; a right one resets the count.
    A locked journey refuses every answer, right or wrong."""
    # Answers to one journey are checked one at a time, each on the row as the previous one
    # left it: parallel guesses can never get more than ``max_tries`` looks at the name.
    await uow.lock(f"identity:{journey.id}")
    await uow.session.refresh(journey, ["identity_failures", "identity_locked_at"])
    if journey.identity_locked_at is not None or journey.identity_failures >= max_tries:
        return Outcome(passed=False, tries_left=0)
    if matches(given, last_name):
        journey.identity_failures = 0
        return Outcome(passed=True, tries_left=max_tries)
    # An UPDATE … + 1 rather than a read-modify-write: parallel wrong answers all count.
    failures = await uow.session.scalar(
        update(Journey)
        .where(Journey.id == journey.id)
        .values(identity_failures=Journey.identity_failures + 1)
        .returning(Journey.identity_failures)
        .execution_options(synchronize_session=False)
    )
    failures = int(failures or 0)
    journey.identity_failures = failures
    if failures >= max_tries:
        now = uow.clock.now()
        journey.identity_locked_at = now
        await uow.session.flush()
        await sessions.end_sessions_of(uow, journey_id=journey.id)
        return Outcome(passed=False, tries_left=0)
    return Outcome(passed=False, tries_left=max_tries - failures)
