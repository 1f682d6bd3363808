"""The privacy room's back-office paths, written once: everything held about one person (a
readable page, and its JSON with ``?format=json``), and erasing it on request. Under the
administration section (admins only)."""

from __future__ import annotations

from rdv_spie.web.paths import ADMINISTRATION

PERSON_DATA = f"{ADMINISTRATION}/personnes/{{person_id:uuid}}"
PERSON_ERASE = f"{PERSON_DATA}/effacement"
