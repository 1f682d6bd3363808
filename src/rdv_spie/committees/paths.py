"""The committees room's back-office paths, written once.

A referent's fiches (the menu's FICHES): their list, a new one for a journey
(``?parcours=<journey id>``), one fiche (read, changed until the deadline) and withdrawing it.
The SPIE team's desk (the menu's COMMITTEES): the queue to acknowledge and the sessions, a
session's agenda, moving or cancelling it, acknowledging a request and recording its decision;
the series (their rule, capacity, deadline, place or video link) and their members. The
partners' portal (the menu's PORTAL): the charter, the upcoming sessions, a frozen agenda,
one fiche on it (each read in the audit trail), subscribing to a series' calendar.
"""

from __future__ import annotations

from rdv_spie.web.paths import COMMITTEES, FICHES, PORTAL

__all__ = [
    "ACKNOWLEDGE",
    "CHARTER",
    "COMMITTEES",
    "DECISION",
    "FICHE",
    "FICHES",
    "FICHE_NEW",
    "FICHE_WITHDRAW",
    "MEMBERS",
    "MEMBER_REMOVE",
    "PORTAL",
    "PORTAL_FICHE",
    "PORTAL_SESSION",
    "SERIES",
    "SERIES_LIST",
    "SERIES_NEW",
    "SESSION",
    "SESSION_CANCEL",
    "SESSION_MOVE",
    "SUBSCRIBE",
    "SUBSCRIBE_NEW_LINK",
]

FICHE_NEW = f"{FICHES}/nouvelle"
FICHE = f"{FICHES}/{{request_id:uuid}}"
FICHE_WITHDRAW = f"{FICHE}/retrait"

ACKNOWLEDGE = f"{COMMITTEES}/demandes/{{request_id:uuid}}/accuse-reception"
DECISION = f"{COMMITTEES}/demandes/{{request_id:uuid}}/decision"
SESSION = f"{COMMITTEES}/seances/{{session_id:uuid}}"
SESSION_MOVE = f"{SESSION}/deplacement"
SESSION_CANCEL = f"{SESSION}/annulation"
SERIES_LIST = f"{COMMITTEES}/series"
SERIES_NEW = f"{SERIES_LIST}/nouvelle"
SERIES = f"{SERIES_LIST}/{{series_id:uuid}}"
MEMBERS = f"{SERIES}/membres"
MEMBER_REMOVE = f"{MEMBERS}/{{agent_id:uuid}}/retrait"

CHARTER = f"{PORTAL}/charte"
PORTAL_SESSION = f"{PORTAL}/seances/{{session_id:uuid}}"
PORTAL_FICHE = f"{PORTAL}/fiches/{{request_id:uuid}}"
SUBSCRIBE = f"{PORTAL}/abonnement/{{series_id:uuid}}"
SUBSCRIBE_NEW_LINK = f"{SUBSCRIBE}/nouveau-lien"
