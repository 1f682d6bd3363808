"""The public pages' paths, written once: the invitation link, the identity check, choosing
and confirming a slot (booking or moving), the booked appointment and cancelling it."""

from __future__ import annotations

LINK = "/i/{token:str}"
HOME = "/rdv"
CHECK = f"{HOME}/verification"
BOOK = f"{HOME}/creneaux"
MOVE = f"{HOME}/deplacer"
CONFIRM = "confirmer"  # under BOOK or MOVE: the chosen slot's summary and its button
CONFIRMATION = f"{HOME}/confirmation"
ICS = f"{HOME}/rendez-vous.ics"
CANCEL = f"{HOME}/annuler"
CANCELLED = f"{HOME}/annulation"
# Where the person's file stands (appointments, a committee's discussion, next steps).
FILE = f"{HOME}/mon-dossier"
# ``/i/<token>?suite=dossier`` and ``/rdv?suite=dossier``: after the identity check, the file.
NEXT = "suite"
NEXT_FILE = "dossier"
