"""The expected authorization matrix: the POLICY (issue 13), not what the code does today.

One line per route of the application (``METHOD path`` exactly as Litestar lists it, and a
``[variant]`` when one route is tried in several ways), one letter per actor:

    R  read     2xx (or the page's redirect) and the answer shows A's object
    C  change   the unsafe request succeeded and the change is in the database
    X  refused  403 or 404 — or a list that shows none of A's objects; never A's data
    L  login    no credentials: 401 for the API, a redirect to the login form for the back office
    O  open     a page anyone may open, nothing of A's behind it
    -  not tried (the cell means nothing for this actor)

Columns: referent, admin, animator, partner of A; the same of B (same territory); an admin of
another territory; no credentials; the holder of the link (a person's session opened from
their invitation, a feed's token, Twilio's signature — on API and back-office rows: a
person's session, which grants nothing there).

Readings of the policy where the issue is silent (the report names them):
- territory-level configuration (territories, organisations, places, appointment types,
  slots, CTO series, sessions and members) is read by every agent of the territory, partners
  included — this is what the code does;
- organisations are created by an admin of an organisation of the territory (code, README);
- places are created and changed by the managers of the place's organisation only;
- a partner of A neither reads nor changes A's CTO requests (a fiche is a person's file;
  sworn members read the frozen agenda);
- indicators cover the cohorts an agent sees: their structure's, or all of the territory's
  for the territory team;
- a situation request is submitted by the structures that follow the person, or by the
  territory team for anyone (the code's choice, commit f091613); B's referent is refused;
- a booking (whatever the way) is for the structures that follow the person, and A's
  referent's hours (opened for A) are not B's to book, even for a new person.
"""

from __future__ import annotations

COLUMNS = "rA aA nA pA rB aB nB pB T2 anon hold"

EXPECTED_TABLE = """
# ---------------------------------------------------------------- API: territory configuration
GET /api/v1/territories                                        R R R R R R R R X L L
GET /api/v1/territories/{territory_id:uuid}                    R R R R R R R R X L L
GET /api/v1/organisations                                      R R R R R R R R X L L
POST /api/v1/organisations                                     X C X X X C X X X L L
GET /api/v1/organisations/{organisation_id:uuid}               R R R R R R R R X L L
GET /api/v1/places                                             R R R R R R R R X L L
POST /api/v1/places                                            X C C X X X X X X L L
GET /api/v1/places/{place_id:uuid}                             R R R R R R R R X L L
PATCH /api/v1/places/{place_id:uuid}                           X C C X X X X X X L L
GET /api/v1/appointment-types                                  R R R R R R R R X L L
POST /api/v1/appointment-types                                 X C C X X C C X X L L
GET /api/v1/appointment-types/{type_id:uuid}                   R R R R R R R R X L L
PATCH /api/v1/appointment-types/{type_id:uuid}                 X C C X X C C X X L L
GET /api/v1/slots                                              R R R R R R R R X L L
# ---------------------------------------------------------------- API: agents
GET /api/v1/agents                                             R R R R X X X X X L L
POST /api/v1/agents [new e-mail into A]                        X C X X X X X X X L L
POST /api/v1/agents [A's referent's e-mail into own org]       X - X X X X X X X L L
GET /api/v1/agents/{agent_id:uuid}                             R R R R X X X X X L L
# ---------------------------------------------------------------- API: an agent's hours
GET /api/v1/availability-rules                                 X R R X X X X X X L L
POST /api/v1/availability-rules                                X C C X X X X X X L L
GET /api/v1/availability-rules/{rule_id:uuid}                  X R R X X X X X X L L
PUT /api/v1/availability-rules/{rule_id:uuid}                  X C C X X X X X X L L
DELETE /api/v1/availability-rules/{rule_id:uuid}               X C C X X X X X X L L
GET /api/v1/absences                                           X R R X X X X X X L L
POST /api/v1/absences                                          X C C X X X X X X L L
DELETE /api/v1/absences/{absence_id:uuid}                      X C C X X X X X X L L
# ---------------------------------------------------------------- API: appointments
GET /api/v1/appointments                                       R R R X X X X X X L L
GET /api/v1/appointments/{appointment_id:uuid}                 R R R X X X X X X L L
POST /api/v1/appointments [journey_id]                         C C C X X X X X X L L
POST /api/v1/appointments [person_id]                          C C C X X X X X X L L
POST /api/v1/appointments [new person in A's hours]            C C C X X X X X X L L
POST /api/v1/appointments/{appointment_id:uuid}/cancel         C C C X X X X X X L L
POST /api/v1/appointments/{appointment_id:uuid}/move           C C C X X X X X X L L
POST /api/v1/appointments/{appointment_id:uuid}/status         C C C X X X X X X L L
# ---------------------------------------------------------------- API: cohorts, journeys, people
GET /api/v1/cohorts                                            R R R X X R R X X L L
POST /api/v1/cohorts                                           X C C X X C C X X L L
GET /api/v1/cohorts/{cohort_id:uuid}                           R R R X X R R X X L L
PATCH /api/v1/cohorts/{cohort_id:uuid}                         X C C X X C C X X L L
POST /api/v1/cohorts/{cohort_id:uuid}/people                   X C C X X C C X X L L
POST /api/v1/cohorts/{cohort_id:uuid}/imports                  X C C X X C C X X L L
GET /api/v1/cohorts/{cohort_id:uuid}/journeys                  R R R X X R R X X L L
POST /api/v1/journeys/{journey_id:uuid}/unlock                 C C C X X X X X X L L
POST /api/v1/journeys/{journey_id:uuid}/close                  X C C X X C C X X L L
GET /api/v1/people/{person_id:uuid}/reads                      X R R X X R R X X L L
GET /api/v1/indicators                                         R R R X X R R X X L L
GET /api/v1/indicators/csv                                     R R R X X R R X X L L
# ---------------------------------------------------------------- API: feed links
GET /api/v1/calendar-feeds/me                                  R R R R R R R R R L L
POST /api/v1/calendar-feeds/me                                 C C C C C C C C C L L
DELETE /api/v1/calendar-feeds/me                               C C C C C C C C C L L
GET /api/v1/calendar-feeds/territories/{territory_id:uuid}     X R R X X R R X X L L
POST /api/v1/calendar-feeds/territories/{territory_id:uuid}    X C C X X C C X X L L
DELETE /api/v1/calendar-feeds/territories/{territory_id:uuid}  X C C X X C C X X L L
GET /api/v1/calendar-feeds/cto-series/{series_id:uuid}         X R R X X R R X X L L
POST /api/v1/calendar-feeds/cto-series/{series_id:uuid}        X C C X X C C X X L L
DELETE /api/v1/calendar-feeds/cto-series/{series_id:uuid}      X C C X X C C X X L L
# ---------------------------------------------------------------- API: committees
GET /api/v1/cto-series                                         R R R R R R R R X L L
POST /api/v1/cto-series                                        X C C X X C C X X L L
GET /api/v1/cto-series/{series_id:uuid}                        R R R R R R R R X L L
PATCH /api/v1/cto-series/{series_id:uuid}                      X C C X X C C X X L L
GET /api/v1/cto-series/{series_id:uuid}/sessions               R R R R R R R R X L L
GET /api/v1/cto-series/{series_id:uuid}/members                R R R R R R R R X L L
POST /api/v1/cto-series/{series_id:uuid}/members               X C C X X C C X X L L
POST /api/v1/cto-series/{series_id:uuid}/members/{agent_id:uuid}/charter X C C X X C C X X L L
DELETE /api/v1/cto-series/{series_id:uuid}/members/{agent_id:uuid} X C C X X C C X X L L
GET /api/v1/cto-sessions/{session_id:uuid}                     R R R R R R R R X L L
POST /api/v1/cto-sessions/{session_id:uuid}/move               X C C X X C C X X L L
POST /api/v1/cto-sessions/{session_id:uuid}/cancel             X C C X X C C X X L L
GET /api/v1/cto-sessions/{session_id:uuid}/agenda              X R R R X R R X X L L
GET /api/v1/cto-requests                                       R R R X X R R X X L L
POST /api/v1/cto-requests                                      C C C X X C C X X L L
GET /api/v1/cto-requests/overdue                               X R R X X R R X X L L
GET /api/v1/cto-requests/{request_id:uuid}                     R R R X X R R X X L L
PATCH /api/v1/cto-requests/{request_id:uuid}                   C C C X X X X X X L L
POST /api/v1/cto-requests/{request_id:uuid}/withdraw           C C C X X X X X X L L
POST /api/v1/cto-requests/{request_id:uuid}/acknowledge        X C C X X C C X X L L
POST /api/v1/cto-requests/{request_id:uuid}/decision           X C C X X C C X X L L
# ---------------------------------------------------------------- back office
GET /agent                                                     R R R R R R R R R L L
GET /agent/structure                                           R R R X R R R X R L L
POST /agent/structure                                          C C C X X X X X X L L
# ---- the territory team's office (issue 15): cohorts and imports
GET /agent/cohortes/{cohort_id:uuid}/imports/nouveau           X R R X X R R X X L L
POST /agent/cohortes/{cohort_id:uuid}/imports/nouveau          X C C X X C C X X L L
GET /agent/cohortes/{cohort_id:uuid}/imports                   X R R X X R R X X L L
GET /agent/imports/{import_id:uuid}                            X R R X X R R X X L L
POST /agent/imports/{import_id:uuid}/colonnes                  X C C X X C C X X L L
POST /agent/imports/{import_id:uuid}/lancement                 X C C X X C C X X L L
GET /agent/imports/{import_id:uuid}/lignes-refusees.csv        X R R X X R R X X L L
GET /agent/cohortes                                            X R R X X R R X X L L
GET /agent/cohortes/nouvelle                                   X R R X X R R X X L L
POST /agent/cohortes/nouvelle                                  X C C X X C C X X L L
GET /agent/cohortes/{cohort_id:uuid}                           X R R X X R R X X L L
GET /agent/cohortes/{cohort_id:uuid}/modifier                  X R R X X R R X X L L
POST /agent/cohortes/{cohort_id:uuid}/modifier                 X C C X X C C X X L L
# ---- journeys
GET /agent/parcours                                            X R R X X R R X X L L
GET /agent/parcours/{journey_id:uuid}                          X R R X X R R X X L L
POST /agent/parcours/{journey_id:uuid}/relance                 X C C X X C C X X L L
POST /agent/parcours/{journey_id:uuid}/cloture                 X C C X X C C X X L L
# ---- indicators
GET /agent/indicateurs                                         X R R X X R R X X L L
GET /agent/indicateurs.csv                                     X R R X X R R X X L L
# ---- committees (issue 16): series
GET /agent/comites/series                                      X R R X X R R X X L L
GET /agent/comites/series/nouvelle                             X R R X X R R X X L L
POST /agent/comites/series/nouvelle                            X C C X X C C X X L L
GET /agent/comites/series/{series_id:uuid}                     X R R X X R R X X L L
POST /agent/comites/series/{series_id:uuid}                    X C C X X C C X X L L
POST /agent/comites/series/{series_id:uuid}/membres            X C C X X C C X X L L
POST /agent/comites/series/{series_id:uuid}/membres/{agent_id:uuid}/retrait X C C X X C C X X L L
# ---- committees (issue 16): desk
GET /agent/comites                                             X R R X X R R X X L L
POST /agent/comites/demandes/{request_id:uuid}/accuse-reception X C C X X C C X X L L
GET /agent/comites/seances/{session_id:uuid}                   X R R X X R R X X L L
POST /agent/comites/seances/{session_id:uuid}/deplacement      X C C X X C C X X L L
POST /agent/comites/seances/{session_id:uuid}/annulation       X C C X X C C X X L L
POST /agent/comites/demandes/{request_id:uuid}/decision        X C C X X C C X X L L
# ---- committees (issue 16): fiches
GET /agent/fiches                                              R R R X X X X X X L L
GET /agent/fiches/nouvelle                                     R R R X X X X X X L L
POST /agent/fiches/nouvelle                                    C C C X X X X X X L L
GET /agent/fiches/{request_id:uuid}                            R R R X X X X X X L L
POST /agent/fiches/{request_id:uuid}                           C C C X X X X X X L L
POST /agent/fiches/{request_id:uuid}/retrait                   C C C X X X X X X L L
# ---- committees (issue 16): the partners' portal
GET /agent/partenaire                                          R R R R R R R R R L L
GET /agent/partenaire/charte                                   R R R R R R R R R L L
GET /agent/partenaire/seances/{session_id:uuid}                X X X R X X X X X L L
GET /agent/partenaire/fiches/{request_id:uuid}                 X X X R X X X X X L L
GET /agent/partenaire/abonnement/{series_id:uuid}              X X X R X X X X X L L
POST /agent/partenaire/abonnement/{series_id:uuid}/nouveau-lien X X X C X X X X X L L
POST /agent/partenaire/charte                                  X X X C X X X X X L L
# ---- administration
GET /agent/administration                                      X R X X X R X X R L L
GET /agent/administration/structures                           X R X X X R X X X L L
GET /agent/administration/structures/nouvelle                  X R X X X R X X R L L
POST /agent/administration/structures/nouvelle                 X C X X X C X X C L L
GET /agent/administration/structures/{organisation_id:uuid}    X R X X X R X X X L L
POST /agent/administration/structures/{organisation_id:uuid}   X C X X X C X X X L L
GET /agent/administration/lieux                                X R X X X X X X X L L
GET /agent/administration/lieux/nouveau                        X R X X X R X X R L L
POST /agent/administration/lieux/nouveau                       X C X X X C X X C L L
GET /agent/administration/lieux/{place_id:uuid}                X R X X X X X X X L L
POST /agent/administration/lieux/{place_id:uuid}               X C X X X X X X X L L
GET /agent/administration/motifs                               X R X X X R X X X L L
GET /agent/administration/motifs/nouveau                       X R X X X R X X R L L
POST /agent/administration/motifs/nouveau                      X C X X X C X X C L L
GET /agent/administration/motifs/{type_id:uuid}                X R X X X R X X X L L
POST /agent/administration/motifs/{type_id:uuid}               X C X X X C X X X L L
GET /agent/administration/flux                                 X R X X X R X X X L L
POST /agent/administration/flux                                X C X X X C X X C L L
GET /agent/administration/consultations [A's person's trail]   X R X X X R X X X L L
GET /agent/administration/consultations [search by name]       X R X X X R X X X L L
# ---- personal data on request (issue 18)
GET /api/v1/people/{person_id:uuid}/export                     X R X X X R X X X L L
POST /api/v1/people/{person_id:uuid}/erase                     X C X X X C X X X L L
GET /agent/administration/personnes/{person_id:uuid}           X R X X X R X X X L L
POST /agent/administration/personnes/{person_id:uuid}/effacement X C X X X C X X X L L
GET /agent/administration/agents                               X R X X X X X X X L L
GET /agent/administration/agents/nouveau                       X R X X X R X X R L L
POST /agent/administration/agents/nouveau                      X C X X X C X X C L L
GET /agent/administration/agents/{agent_id:uuid}               X R X X X X X X X L L
POST /agent/administration/agents/{agent_id:uuid}              X C X X X X X X X L L
POST /agent/administration/agents/{agent_id:uuid}/desactivation X C X X X X X X X L L
POST /agent/administration/agents/{agent_id:uuid}/lien         X C X X X X X X X L L
GET /agent/mot-de-passe                                        O O O O O O O O O O O
POST /agent/mot-de-passe                                       O O O O O O O O O - -
GET /agent/administration/cles-api                             X R X X X X X X X L L
POST /agent/administration/cles-api                            X C X X X C X X C L L
POST /agent/administration/cles-api/{key_id:uuid}/revocation   X C X X X X X X X L L
GET /agent/connexion                                           O O O O O O O O O O O
POST /agent/connexion                                          O O O O O O O O O - -
POST /agent/deconnexion                                        O O O O O O O O O O O
GET /agent/disponibilites                                      R R R X R R R X R L L
POST /agent/disponibilites/plages                              C C C X C C C X C L L
POST /agent/disponibilites/plages/{rule_id:uuid}/suppression   X C C X X X X X X L L
POST /agent/disponibilites/absences                            C C C X C C C X C L L
POST /agent/disponibilites/absences/{absence_id:uuid}/suppression X C C X X X X X X L L
GET /agent/agenda [team week]                                  R R R X X X X X X L L
POST /agent/rendez-vous/{appointment_id:uuid}/statut           C C C X X X X X X L L
POST /agent/rendez-vous/{appointment_id:uuid}/annulation       C C C X X X X X X L L
GET /agent/prise-de-rdv [A's journey]                          R R R X X X X X X L L
POST /agent/prise-de-rdv                                       C C C X X X X X X L L
GET /agent/personnes                                           R R R X X X X X X L L
POST /agent/parcours/{journey_id:uuid}/deblocage               C C C X X X X X X L L
GET /agent/calendrier                                          R R R X R R R X R L L
POST /agent/calendrier                                         C C C X C C C X C L L
# ---------------------------------------------------------------- a person's pages (their link)
GET /                                                          O O O O O O O O O O O
GET /i/{token:str}                                             X X X X X X X X X X R
GET /rdv                                                       X X X X X X X X X X R
POST /rdv/verification                                         X X X X X X X X X X C
GET /rdv/creneaux                                              X X X X X X X X X X R
GET /rdv/creneaux/confirmer                                    X X X X X X X X X X R
POST /rdv/creneaux/confirmer                                   X X X X X X X X X X C
GET /rdv/deplacer                                              X X X X X X X X X X R
GET /rdv/deplacer/confirmer                                    X X X X X X X X X X R
POST /rdv/deplacer/confirmer                                   X X X X X X X X X X C
GET /rdv/confirmation                                          X X X X X X X X X X R
GET /rdv/mon-dossier                                           X X X X X X X X X X R
GET /rdv/rendez-vous.ics                                       X X X X X X X X X X R
GET /rdv/annuler                                               X X X X X X X X X X R
POST /rdv/annuler                                              X X X X X X X X X X C
GET /rdv/annulation                                            X X X X X X X X X X R
# ------------------------------------------------------ feeds and webhooks (the link is the key)
GET /feeds/{filename:str} [A's referent's feed]                X X X X X X X X X X R
GET /feeds/{filename:str} [territory feed]                     X X X X X X X X X X R
GET /feeds/{filename:str} [CTO series feed]                    X X X X X X X X X X R
POST /webhooks/twilio/status                                   X X X X X X X X X X C
"""

# Routes being added by other engineers right now: a row waits for its route without failing.
PENDING = frozenset({"POST /api/v1/journeys/{journey_id:uuid}/unlock"})

# Infrastructure: no data of anyone behind them (documented in the README).
SKIPPED_PREFIXES = ("/api/v1/schema", "/static/")
SKIPPED_PATHS = frozenset({"/healthz", "/readyz"})
SKIPPED_METHODS = frozenset({"HEAD", "OPTIONS"})

WORDS = {"R": "read", "C": "change", "X": "refused", "L": "login", "O": "open"}


def parse(table: str = EXPECTED_TABLE) -> dict[str, dict[str, str]]:
    """Row key (``METHOD path [variant]``) → actor column → expected letter."""
    columns = COLUMNS.split()
    expected: dict[str, dict[str, str]] = {}
    for line in table.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        (*words,) = line.split()
        letters = words[-len(columns) :]
        key = " ".join(words[: -len(columns)])
        assert all(x in "RCXLO-" for x in letters), f"bad letters on {line!r}"
        assert key not in expected, f"row {key!r} twice in the table"
        expected[key] = dict(zip(columns, letters, strict=True))
    return expected


def route_of(key: str) -> str:
    """``METHOD path`` of a row key (the variant dropped)."""
    return key.split(" [", 1)[0]
