"""The committees' confidentiality charter: its versions (texts in templates/charters/) and
a member's acceptance (version and instant)."""

from __future__ import annotations

from datetime import datetime

from rdv_spie.committees.models import CtoMember

# Version "1" is the paper text existing members accepted; a new version asks again.
CURRENT_VERSION = "2"


def accepted(member: CtoMember) -> bool:
    """True when the member accepted the current version of the charter."""
    return member.charter_version == CURRENT_VERSION


def accept(member: CtoMember, now: datetime) -> None:
    """Record the acceptance of the current version, at this instant (stored in UTC)."""
    member.charter_version = CURRENT_VERSION
    member.charter_accepted_at = now
    member.charter_accepted_on = now.date()
