"""The scheduling room's back-office paths, written once: the agenda and what is done to an
appointment from it, the agent's hours and absences, booking for a person."""

from __future__ import annotations

from rdv_spie.web.paths import AGENDA, AVAILABILITY, BOOKING, OFFICE

__all__ = ["AGENDA", "AVAILABILITY", "BOOKING"]

RULES = f"{AVAILABILITY}/plages"
RULE_DELETE = f"{RULES}/{{rule_id:uuid}}/suppression"
ABSENCES = f"{AVAILABILITY}/absences"
ABSENCE_DELETE = f"{ABSENCES}/{{absence_id:uuid}}/suppression"
APPOINTMENT = f"{OFFICE}/rendez-vous/{{appointment_id:uuid}}"
APPOINTMENT_STATUS = f"{APPOINTMENT}/statut"
APPOINTMENT_CANCEL = f"{APPOINTMENT}/annulation"
