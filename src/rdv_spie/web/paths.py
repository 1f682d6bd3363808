"""The back office's paths, as its menu (pages/office_base.html) lists them: where it lives,
signing in and out, and the one page of each section. Each room's ``paths.py`` names its
other pages under these; a path is written once, here or there."""

from __future__ import annotations

OFFICE = "/agent"
LOGIN = f"{OFFICE}/connexion"
LOGOUT = f"{OFFICE}/deconnexion"
ACTING = f"{OFFICE}/structure"  # which organisation the agent acts for

# The menu's sections; the office opens on the agenda.
AGENDA = f"{OFFICE}/agenda"
AVAILABILITY = f"{OFFICE}/disponibilites"
PEOPLE = f"{OFFICE}/personnes"
BOOKING = f"{OFFICE}/prise-de-rdv"
CALENDAR = f"{OFFICE}/calendrier"
# The territory team's sections (admins and animators).
COHORTS = f"{OFFICE}/cohortes"
JOURNEYS = f"{OFFICE}/parcours"
INDICATORS = f"{OFFICE}/indicateurs"
# Admins only.
ADMINISTRATION = f"{OFFICE}/administration"


def in_office(path: str) -> bool:
    """Whether a request path is a back-office page."""
    return path == OFFICE or path.startswith(f"{OFFICE}/")
