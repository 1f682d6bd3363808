"""Importing people from the back office: an animator uploads a Windows-1252 CSV with bad rows
(the preview says what would happen, every rejected row in French, nothing written), changes a
column's mapping, imports (the progress page reloads itself unless told to stop; the
in-process runner writes it), reads the summary, the history and the rejected rows as CSV; an
.xlsx goes the same way; a file not a table or too big gets its page and nothing is kept;
referents and another territory are refused."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import uuid
from pathlib import Path

import httpx
from litestar import Litestar
from sqlalchemy import func, select
from tests.integration.web_office.office_support import Office, body, csrf, login, set_password
from tests.support import intake as data
from tests.support.spreadsheets import xlsx

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import ImportRun, ImportState, Journey, Person
from rdv_spie.settings import Settings
from rdv_spie.worker.context import build_context
from rdv_spie.worker.inprocess import InProcessRunner

COHORTS = "/agent/cohortes"
_RUN = re.compile(r"^/agent/imports/([0-9a-f-]{36})$")


def new_url(cohort_id: uuid.UUID) -> str:
    return f"{COHORTS}/{cohort_id}/imports/nouveau"


async def upload(
    client: httpx.AsyncClient, cohort_id: uuid.UUID, name: str, content: bytes
) -> httpx.Response:
    page = await client.get(new_url(cohort_id))
    assert page.status_code == 200, page.text
    return await client.post(
        new_url(cohort_id),
        data={"csrf_token": csrf(page.text)},
        files={"fichier": (name, content, "application/octet-stream")},
    )


def run_id_of(response: httpx.Response) -> uuid.UUID:
    assert response.status_code == 303, response.text
    found = _RUN.match(response.headers["location"])
    assert found, response.headers["location"]
    return uuid.UUID(found.group(1))


async def team(client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office) -> None:
    email = await set_password(db, clock, office.s.animator_id)
    assert (await login(client, email)).status_code == 303


async def count(db: Database, clock: FrozenClock, model: type[Person | Journey]) -> int:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def run_jobs(settings: Settings, db: Database, clock: FrozenClock) -> None:
    """One pass of the in-process runner (what the web process does without Redis)."""
    context = build_context(settings, clock, db=db)
    try:
        await InProcessRunner(context, sweep_seconds=60).run_once(plan=False)
    finally:
        await context.aclose()


async def test_upload_preview_map_import_summary_history(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    settings: Settings,
    office: Office,
) -> None:
    await team(client, db, clock, office)
    people = data.people(12)
    lines = [data.HEADER.replace("Courriel", "Adresse de messagerie").replace("N° CAF", "=N° CAF")]
    lines += [
        f"{p.last_name};{p.first_name};01/02/1990;{p.phone or ''};{p.email or ''};;" for p in people
    ]
    lines += ["Lefèvre;Zoé;01/02/1990;01 02;zoe@exemple.fr;;", "Roux;Zoé;05/05/1995"]
    lines += [f"Blanc;Lou;01/02/1990;;lou@exemple.fr;{'1' * 51};"]  # a header read as a formula
    content = ("\r\n".join(lines) + "\r\n").encode("cp1252")
    run_id = run_id_of(await upload(client, office.cohort_id, "liste décembre.csv", content))
    run_url = f"/agent/imports/{run_id}"

    page = await client.get(run_url)
    text = body(page)
    assert page.status_code == 200
    assert "Import du fichier liste décembre.csv" in text
    assert "Lefèvre" not in text  # a cell's content is never shown back
    assert "Le numéro de téléphone n'est pas valide." in text
    assert "pas le même nombre de cases" in text
    assert await count(db, clock, Person) == 0  # step one writes no one
    # "Adresse de messagerie" is not recognised: the people with only an e-mail are refused.
    assert re.search(
        r'<select id="colonne-4" name="colonne-4"[^>]*>\s*<option value="" selected>', page.text
    )
    async with db.unit_of_work(clock=clock, write=False) as uow:
        run = await uow.session.get(ImportRun, run_id)
        assert run is not None
        before = (run.created_count, run.rejected_count)
    assert before == (8, 7)  # 4 people with only an e-mail have no contact left

    # The mapping: column 5 gives the e-mail address; counted again.
    columns = {
        f"colonne-{i}": name
        for i, name in enumerate(
            ["last_name", "first_name", "birth_on", "phone", "email", "caf_number", "entered_on"]
        )
    }
    mapped = await client.post(
        f"{run_url}/colonnes", data={"csrf_token": csrf(page.text), **columns}
    )
    assert mapped.status_code == 303 and mapped.headers["location"] == f"{run_url}?fait=colonnes"
    page = await client.get(mapped.headers["location"])
    assert "Les colonnes sont enregistrées" in body(page)
    assert "Importer 12 personnes" in body(page)
    # Two columns for one field: refused, said beside the columns, nothing changed.
    twice = await client.post(
        f"{run_url}/colonnes",
        data={"csrf_token": csrf(page.text), **columns, "colonne-5": "email"},
    )
    assert twice.status_code == 422
    assert "Deux colonnes donnent la même information" in body(twice)

    confirmed = await client.post(f"{run_url}/lancement", data={"csrf_token": csrf(page.text)})
    assert confirmed.status_code == 303 and confirmed.headers["location"] == run_url
    progress = await client.get(run_url)
    assert progress.headers["refresh"] == "2"  # reloads itself, no script
    assert "Arrêter la mise à jour automatique" in body(progress)
    stopped = await client.get(f"{run_url}?actualiser=non")
    assert "refresh" not in stopped.headers and '<progress id="avancement"' in stopped.text
    assert '<progress id="avancement"' in progress.text
    assert await count(db, clock, Person) == 0

    await run_jobs(settings, db, clock)
    summary = await client.get(run_url)
    text = body(summary)
    assert "refresh" not in summary.headers
    assert "L'import est terminé" in text
    assert await count(db, clock, Person) == 12 and await count(db, clock, Journey) == 12

    history = await client.get(f"{COHORTS}/{office.cohort_id}/imports")
    text = body(history)
    assert history.status_code == 200
    assert "liste décembre.csv" in text and "Animator Test" in text and "Importé" in text

    rejected = await client.get(f"{run_url}/lignes-refusees.csv")
    assert rejected.status_code == 200
    assert rejected.headers["content-type"].startswith("text/csv")
    assert rejected.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(rejected.content.decode("utf-8-sig")), delimiter=";"))
    assert rows == [
        ["Ligne", "Colonne", "Nom de la colonne", "Motif du refus"],
        ["14", "4", "Téléphone", "Le numéro de téléphone n'est pas valide."],
        [
            "15",
            "",
            "",
            "La ligne n'a pas le même nombre de cases que l'en-tête (un « ; » ou une virgule"
            " en trop ?).",
        ],
        ["16", "6", "'=N° CAF", "Numéro CAF : le texte est trop long."],
    ]
    assert "Lefèvre" not in rejected.content.decode("utf-8-sig")

    # The same file again: everyone is already there and up to date.
    again = run_id_of(await upload(client, office.cohort_id, "liste décembre.csv", content))
    page = await client.get(f"/agent/imports/{again}")
    await client.post(
        f"/agent/imports/{again}/colonnes", data={"csrf_token": csrf(page.text), **columns}
    )
    async with db.unit_of_work(clock=clock, write=False) as uow:
        run = await uow.session.get(ImportRun, again)
        assert run is not None
        assert (run.created_count, run.updated_count, run.unchanged_count) == (0, 0, 12)


async def test_a_spreadsheet_and_refused_files(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    settings: Settings,
    office: Office,
) -> None:
    await team(client, db, clock, office)
    sheet = xlsx(
        [
            ["Nom", "Prénom", "Téléphone portable", "Courriel"],
            ["Martin", "Léa", "06 12 34 56 78", "lea@exemple.fr"],
            ["Durand", "Hugo", "0622334455", None],
            ["Petit", None, None, "ines@exemple.fr"],
        ]
    )
    run_id = run_id_of(await upload(client, office.cohort_id, "liste.xlsx", sheet))
    page = await client.get(f"/agent/imports/{run_id}")
    assert "Prénom : la case est vide" in body(page)
    await client.post(f"/agent/imports/{run_id}/lancement", data={"csrf_token": csrf(page.text)})
    await run_jobs(settings, db, clock)
    async with db.unit_of_work(clock=clock, write=False) as uow:
        run = await uow.session.get(ImportRun, run_id)
        assert run is not None and run.state == ImportState.DONE and run.content is None
        assert (run.file_kind, run.created_count, run.rejected_count) == ("xlsx", 2, 1)

    refused = await upload(client, office.cohort_id, "photo.csv", b"\x00\x00\x01\x00 an icon")
    assert refused.status_code == 422
    assert "n'est pas un tableau lisible" in body(refused)
    assert 'aria-invalid="true"' in refused.text
    alone = await upload(client, office.cohort_id, "une.csv", b"Liste\nMartin\n")
    assert alone.status_code == 422 and "Aucune colonne utilisable" in body(alone)
    big = await upload(client, office.cohort_id, "gros.csv", b"x" * (settings.import_max_bytes + 1))
    assert big.status_code == 413 and "trop gros" in body(big)
    async with db.unit_of_work(clock=clock, write=False) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(ImportRun)) == 1


async def test_referents_and_other_territories_are_refused(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office
) -> None:
    assert (await login(client, office.email)).status_code == 303  # a referent
    assert (await client.get(new_url(office.cohort_id))).status_code == 403
    client.cookies.clear()
    await team(client, db, clock, office)
    assert (await client.get(new_url(office.other_cohort_id))).status_code == 404
    assert (await client.get(f"/agent/imports/{uuid.uuid4()}")).status_code == 404
    history = await client.get(f"{COHORTS}/{office.other_cohort_id}/imports")
    assert history.status_code == 404


async def test_confirming_wakes_the_runner_of_the_web_process(
    client: httpx.AsyncClient,
    app: Litestar,
    db: Database,
    clock: FrozenClock,
    settings: Settings,
    office: Office,
    tmp_path: Path,
) -> None:
    """Without Redis the web process's runner imports in the background: the confirm hands
    it the run at once (its sweep would take a minute here)."""
    local = settings.model_copy(update={"outbox_dir": tmp_path / "outbox"})
    context = build_context(local, clock, db=db)
    runner = InProcessRunner(context, sweep_seconds=60)
    app.state.job_queue = runner.queue  # what the lifespan does
    runner.start()
    try:
        await team(client, db, clock, office)
        content = data.csv_bytes(data.people(9))
        run_id = run_id_of(await upload(client, office.cohort_id, "liste.csv", content))
        page = await client.get(f"/agent/imports/{run_id}")
        await client.post(
            f"/agent/imports/{run_id}/lancement", data={"csrf_token": csrf(page.text)}
        )
        for _ in range(200):
            async with db.unit_of_work(clock=clock, write=False) as uow:
                run = await uow.session.get(ImportRun, run_id)
                assert run is not None
                if run.state == ImportState.DONE:
                    break
            await asyncio.sleep(0.05)
        assert run.state == ImportState.DONE and run.created_count == 9
    finally:
        await runner.stop()
        await context.aclose()
        db.on_due_notifications = None


async def test_a_header_without_the_names_asks_for_the_columns(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office
) -> None:
    await team(client, db, clock, office)
    content = "Nom de l'usager;Prénom;Courriel\nMartin;Léa;lea@exemple.fr\n".encode()
    run_id = run_id_of(await upload(client, office.cohort_id, "a.csv", content))
    run_url = f"/agent/imports/{run_id}"
    page = await client.get(run_url)
    text = body(page)
    assert "Il manque la colonne du nom ou du prénom" in text
    assert "Importer" not in text.replace("Importer des personnes", "")
    refused = await client.post(f"{run_url}/lancement", data={"csrf_token": csrf(page.text)})
    assert refused.status_code == 422
    assert "Indiquez d'abord ce que contiennent les colonnes" in body(refused)
    mapped = await client.post(
        f"{run_url}/colonnes",
        data={"csrf_token": csrf(page.text), "colonne-0": "last_name", "colonne-1": "first_name"},
    )
    assert mapped.status_code == 303
    page = await client.get(run_url)
    assert "Importer 1 personne" in body(page)  # a column not sent keeps its field (e-mail)
