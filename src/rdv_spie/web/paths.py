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
# Committees: a referent's fiches (any staff role), the team's desk (admins and animators).
FICHES = f"{OFFICE}/fiches"
COMMITTEES = f"{OFFICE}/comites"
# Admins only.
ADMINISTRATION = f"{OFFICE}/administration"
# The partners' portal: any logged-in agent who sits on a committee (partners included).
PORTAL = f"{OFFICE}/partenaire"


def in_office(path: str) -> bool:
    """Whether a request path is a back-office page."""
    return path == OFFICE or path.startswith(f"{OFFICE}/")
