"""Picking the agents of a slot: a tripartite booking always gets two different people."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from rdv_spie.errors import Conflict
from rdv_spie.scheduling.slots import Slot
from rdv_spie.scheduling.taking import _choose

X, Y, Z = (uuid.UUID(int=i) for i in (1, 2, 3))
AT = datetime(2026, 12, 2, 8, tzinfo=UTC)


def slot(referents: tuple[uuid.UUID, ...], animators: tuple[uuid.UUID, ...] = ()) -> Slot:
    return Slot(AT, AT + timedelta(minutes=90), Z, referents, animators)


def test_agent_in_both_roles_is_paired_with_someone_else() -> None:
    # X is referent and animator: Y must be the referent so X can animate.
    assert _choose(slot((X, Y), (X,)), referent_id=None, prefer=None) == (Y, X)


def test_requested_referent_without_a_partner_is_a_conflict() -> None:
    with pytest.raises(Conflict):
        _choose(slot((X, Y), (X,)), referent_id=X, prefer=None)


def test_preferred_referent_first_when_possible() -> None:
    assert _choose(slot((X, Y)), referent_id=None, prefer=Y) == (Y, None)
    assert _choose(slot((X, Y), (Z,)), referent_id=None, prefer=Y) == (Y, Z)
    assert _choose(slot((X, Y), (Y,)), referent_id=None, prefer=Y) == (X, Y)


def test_requested_referent_not_free() -> None:
    with pytest.raises(Conflict):
        _choose(slot((X,)), referent_id=Y, prefer=None)
