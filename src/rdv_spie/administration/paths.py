"""The administration room's back-office paths, written once: its home (the menu's
ADMINISTRATION), the territory's organisations, the organisation's agents (with the link
that lets a new agent choose their password), places, appointment types, API keys, the
territory's feed link and a person's read trail."""

from __future__ import annotations

from rdv_spie.web.paths import ADMINISTRATION, OFFICE

__all__ = [
    "ADMINISTRATION",
    "AGENT",
    "AGENTS",
    "AGENT_DEACTIVATE",
    "AGENT_LINK",
    "AGENT_NEW",
    "API_KEYS",
    "API_KEY_REVOKE",
    "FEED",
    "ORGANISATION",
    "ORGANISATIONS",
    "ORGANISATION_NEW",
    "PASSWORD_SETUP",
    "PLACE",
    "PLACES",
    "PLACE_NEW",
    "READ_TRAIL",
    "TYPE",
    "TYPES",
    "TYPE_NEW",
]

ORGANISATIONS = f"{ADMINISTRATION}/structures"
ORGANISATION_NEW = f"{ORGANISATIONS}/nouvelle"
ORGANISATION = f"{ORGANISATIONS}/{{organisation_id:uuid}}"

AGENTS = f"{ADMINISTRATION}/agents"
AGENT_NEW = f"{AGENTS}/nouveau"
AGENT = f"{AGENTS}/{{agent_id:uuid}}"
AGENT_DEACTIVATE = f"{AGENT}/desactivation"
AGENT_LINK = f"{AGENT}/lien"  # send a new single-use link to choose a password
# Opened from the e-mailed link (no login): the token is in the query, never in the path.
PASSWORD_SETUP = f"{OFFICE}/mot-de-passe"

PLACES = f"{ADMINISTRATION}/lieux"
PLACE_NEW = f"{PLACES}/nouveau"
PLACE = f"{PLACES}/{{place_id:uuid}}"

TYPES = f"{ADMINISTRATION}/motifs"
TYPE_NEW = f"{TYPES}/nouveau"
TYPE = f"{TYPES}/{{type_id:uuid}}"

API_KEYS = f"{ADMINISTRATION}/cles-api"
API_KEY_REVOKE = f"{API_KEYS}/{{key_id:uuid}}/revocation"

FEED = f"{ADMINISTRATION}/flux"
READ_TRAIL = f"{ADMINISTRATION}/consultations"
