"""Every message the service sends: each room's kinds, gathered into the one registry the
deliverer is given (``worker/context.py``). A new message is declared in its room's
``messages.py`` and listed here once."""

from __future__ import annotations

from rdv_spie.committees import messages as committees
from rdv_spie.invitations import messages as invitations
from rdv_spie.notifications import messages as notifications
from rdv_spie.notifications.registry import Registry
from rdv_spie.scheduling import messages as scheduling

MESSAGES = Registry(
    [*invitations.KINDS, *scheduling.KINDS, *committees.KINDS, *notifications.KINDS]
)
