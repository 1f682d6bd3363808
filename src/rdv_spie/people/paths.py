"""The people room's back-office paths, written once: the people to follow, unlocking a
person's identity check, cohorts and the imports of people into them."""

from __future__ import annotations

from rdv_spie.web import paths
from rdv_spie.web.paths import BOOKING, OFFICE, PEOPLE

__all__ = [
    "BOOKING",
    "COHORT",
    "COHORTS",
    "COHORT_EDIT",
    "COHORT_NEW",
    "IMPORT",
    "IMPORT_CONFIRM",
    "IMPORT_HISTORY",
    "IMPORT_MAPPING",
    "IMPORT_NEW",
    "IMPORT_REJECTED",
    "PEOPLE",
    "UNLOCK",
]

UNLOCK = f"{OFFICE}/parcours/{{journey_id:uuid}}/deblocage"

# Cohorts (people/pages_cohorts.py): the list is the menu's COHORTS.
COHORTS = paths.COHORTS
COHORT_NEW = f"{COHORTS}/nouvelle"
COHORT = f"{COHORTS}/{{cohort_id:uuid}}"
COHORT_EDIT = f"{COHORT}/modifier"

# Imports of people into a cohort (people/pages_imports.py): upload (step one, nothing
# written), the run's page (preview, then progress, then summary), a changed column mapping,
# the import itself (step two), the history, the rejected rows as CSV.
IMPORT_NEW = f"{COHORT}/imports/nouveau"
IMPORT_HISTORY = f"{COHORT}/imports"
IMPORT = f"{OFFICE}/imports/{{import_id:uuid}}"
IMPORT_MAPPING = f"{IMPORT}/colonnes"
IMPORT_CONFIRM = f"{IMPORT}/lancement"
IMPORT_REJECTED = f"{IMPORT}/lignes-refusees.csv"
