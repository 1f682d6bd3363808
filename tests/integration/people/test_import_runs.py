"""Imports in two steps (people/imports.py, people/upload.py): the preview counts without
writing a person, confirm queues once, the worker's run imports once and a second file changes
nothing; a run left by a dead worker resumes after its last committed batch once its lease has
expired; a file too big, not a table or without a usable column is refused and nothing is
kept."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from arq.worker import Worker
from sqlalchemy import func, select
from tests.support import intake as data
from tests.support import scenario as sc
from tests.support.redis_server import RedisServer
from tests.support.spreadsheets import xlsx

from rdv_spie.agents.guards import Actor
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.errors import DomainError, Invalid, NotFound
from rdv_spie.people import imports, upload
from rdv_spie.people.intake import BATCH
from rdv_spie.people.models import Cohort, ImportRun, ImportState, Journey, Person
from rdv_spie.settings import Settings
from rdv_spie.web.auth import actor_of
from rdv_spie.worker.settings import worker_settings

MAX = 20 * 1024 * 1024


@pytest.fixture
async def s(db: Database, clock: FrozenClock) -> sc.Scenario:
    return await sc.build(db, clock)


@pytest.fixture
async def cohort(db: Database, clock: FrozenClock, s: sc.Scenario) -> uuid.UUID:
    async with db.unit_of_work(clock=clock) as uow:
        row = Cohort(territory_id=s.territory_id, name="Jeunes", organisation_id=s.organisation_id)
        uow.session.add(row)
        await uow.session.flush()
        return row.id


async def _actor(db: Database, clock: FrozenClock, agent_id: uuid.UUID) -> Actor:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        return await actor_of(uow, agent_id, office=True)


async def _preview(
    db: Database, clock: FrozenClock, actor: Actor, cohort: uuid.UUID, body: bytes, name: str
) -> uuid.UUID:
    async with db.unit_of_work(clock=clock) as uow:
        run = await imports.preview(
            uow=uow, actor=actor, cohort_id=cohort, file_name=name, data=body, max_bytes=MAX
        )
        return run.id


async def _confirm(db: Database, clock: FrozenClock, actor: Actor, run_id: uuid.UUID) -> None:
    async with db.unit_of_work(clock=clock) as uow:
        await imports.confirm(uow=uow, actor=actor, import_id=run_id)


async def _run(db: Database, clock: FrozenClock, run_id: uuid.UUID) -> ImportRun:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        run = await uow.session.get(ImportRun, run_id)
        assert run is not None
        return run


async def _count(db: Database, clock: FrozenClock, model: type[Person | Journey]) -> int:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def test_preview_writes_nothing_then_imports_once(
    db: Database, clock: FrozenClock, s: sc.Scenario, cohort: uuid.UUID
) -> None:
    actor = await _actor(db, clock, s.animator_id)
    people = data.people(30)
    body = data.csv_bytes(people, bad_every=6, encoding="cp1252")
    run_id = await _preview(db, clock, actor, cohort, body, "C:\\Exports\\liste.csv")
    run = await _run(db, clock, run_id)
    assert (run.state, run.file_name, run.file_kind) == (ImportState.PREVIEWED, "liste.csv", "csv")
    assert (run.created_count, run.updated_count, run.unchanged_count) == (30, 0, 0)
    assert run.rejected_count == 5 and run.total_rows == 35
    assert {r["code"] for r in run.rejected} == {c for _, c in data.BAD_ROWS.values()}
    assert all(set(r) == {"line", "column", "header", "field", "code"} for r in run.rejected)
    assert await _count(db, clock, Person) == 0  # step one wrote no one

    # The worker finds nothing to do before the import is confirmed.
    assert await imports.due(db, clock) == []
    assert await imports.run(db=db, clock=clock, import_id=run_id) == "not_claimed"
    await _confirm(db, clock, actor, run_id)
    await _confirm(db, clock, actor, run_id)  # twice: still one queued run
    assert await imports.due(db, clock) == [run_id]
    assert await imports.run(db=db, clock=clock, import_id=run_id) == "done"
    assert await imports.run(db=db, clock=clock, import_id=run_id) == "not_claimed"
    run = await _run(db, clock, run_id)
    assert run.state == ImportState.DONE and run.content is None
    assert (run.processed_rows, run.created_count, run.rejected_count) == (35, 30, 5)
    assert [r["line"] for r in run.rejected] == sorted(r["line"] for r in run.rejected)
    assert await _count(db, clock, Person) == 30 and await _count(db, clock, Journey) == 30
    assert await imports.due(db, clock) == []

    # The same file again: counted unchanged at preview and changes nothing when imported.
    again = await _preview(db, clock, actor, cohort, body, "liste.csv")
    run = await _run(db, clock, again)
    assert (run.created_count, run.updated_count, run.unchanged_count) == (0, 0, 30)
    await _confirm(db, clock, actor, again)
    assert await imports.run(db=db, clock=clock, import_id=again) == "done"
    run = await _run(db, clock, again)
    assert (run.created_count, run.updated_count, run.unchanged_count) == (0, 0, 30)
    assert await _count(db, clock, Person) == 30 and await _count(db, clock, Journey) == 30


async def test_preview_counts_updates_and_a_spreadsheet(
    db: Database, clock: FrozenClock, s: sc.Scenario, cohort: uuid.UUID
) -> None:
    actor = await _actor(db, clock, s.admin_id)
    first = xlsx(
        [
            ["Nom", "Prénom", "Téléphone", "Courriel"],
            ["Martin", "Léa", "06 12 34 56 78", None],
            ["Durand", "Hugo", "06 22 33 44 55", None],
        ]
    )
    run_id = await _preview(db, clock, actor, cohort, first, "liste.xlsx")
    assert (await _run(db, clock, run_id)).file_kind == "xlsx"
    await _confirm(db, clock, actor, run_id)
    assert await imports.run(db=db, clock=clock, import_id=run_id) == "done"
    second = xlsx(
        [
            ["Nom", "Prénom", "Téléphone", "Courriel"],
            ["Martin", "Léa", "06 12 34 56 78", "lea@exemple.fr"],  # gains an e-mail
            ["Durand", "Hugo", "06 22 33 44 55", None],
            ["Petit", "Inès", None, "ines@exemple.fr"],
            ["Petit", "Inès", None, "ines@exemple.fr"],  # the row above's person, once
        ]
    )
    run = await _run(db, clock, await _preview(db, clock, actor, cohort, second, "b.xlsx"))
    counts = (run.created_count, run.updated_count, run.unchanged_count, run.rejected_count)
    assert counts == (1, 1, 2, 0)
    assert await _count(db, clock, Person) == 2


async def test_unrecognised_header_is_kept_for_a_mapping(
    db: Database, clock: FrozenClock, s: sc.Scenario, cohort: uuid.UUID
) -> None:
    actor = await _actor(db, clock, s.animator_id)
    body = "Nom de l'usager;Prénom;Courriel\nMartin;Léa;lea@exemple.fr\n".encode()
    run_id = await _preview(db, clock, actor, cohort, body, "a.csv")
    run = await _run(db, clock, run_id)
    assert run.error_code == "missing_columns" and run.total_rows == 0
    described = upload.describe(body, {}, clock.now().date())
    assert [(c.header, c.field) for c in described] == [
        ("Nom de l'usager", None),
        ("Prénom", "first_name"),
        ("Courriel", "email"),
    ]
    with pytest.raises(Invalid) as refused:
        await _confirm(db, clock, actor, run_id)
    assert refused.value.code == "import_not_ready"
    async with db.unit_of_work(clock=clock) as uow:
        with pytest.raises(Invalid) as twice:
            await imports.remap(
                uow=uow,
                actor=actor,
                import_id=run_id,
                mapping={"Nom de l'usager": "first_name", "Prénom": "first_name"},
            )
        assert twice.value.code == "duplicate_column"
    async with db.unit_of_work(clock=clock) as uow:
        await imports.remap(
            uow=uow, actor=actor, import_id=run_id, mapping={"Nom de l'usager": "last_name"}
        )
    run = await _run(db, clock, run_id)
    assert run.error_code is None and run.created_count == 1
    await _confirm(db, clock, actor, run_id)
    assert await imports.run(db=db, clock=clock, import_id=run_id) == "done"
    async with db.unit_of_work(clock=clock, write=False) as uow:
        person = await uow.session.scalar(select(Person))
        assert person is not None and person.last_name == "Martin"


async def test_a_dead_worker_is_resumed_after_its_lease(
    db: Database, clock: FrozenClock, s: sc.Scenario, cohort: uuid.UUID
) -> None:
    actor = await _actor(db, clock, s.animator_id)
    total = 2 * BATCH + 300
    body = data.csv_bytes(data.people(total))
    run_id = await _preview(db, clock, actor, cohort, body, "grand.csv")
    await _confirm(db, clock, actor, run_id)

    class Died(Exception):
        pass

    async def die(processed: int) -> None:
        raise Died  # the worker dies right after its first batch committed

    with pytest.raises(Died):
        await imports.run(db=db, clock=clock, import_id=run_id, after_batch=die)
    run = await _run(db, clock, run_id)
    assert (run.state, run.processed_rows, run.created_count) == ("running", BATCH, BATCH)
    assert await _count(db, clock, Person) == BATCH
    # Its lease is alive: neither the sweep nor another worker takes the run.
    assert await imports.due(db, clock) == []
    assert await imports.run(db=db, clock=clock, import_id=run_id) == "not_claimed"

    clock.advance(imports.LEASE + timedelta(seconds=1))
    assert await imports.due(db, clock) == [run_id]
    assert await imports.run(db=db, clock=clock, import_id=run_id) == "done"
    run = await _run(db, clock, run_id)
    assert (run.processed_rows, run.created_count, run.unchanged_count) == (total, total, 0)
    assert await _count(db, clock, Person) == total
    assert await _count(db, clock, Journey) == total


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "empty_file"),
        (b"x" * (MAX + 1), "file_too_big"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "not_a_table"),
        (b"\x00\x00\x01\x00\x01\x00 an icon", "not_a_table"),
        (b"PK\x03\x04 not really a zip", "not_a_table"),
        ('Nom;Prénom\n"Martin;Léa\n'.encode() + b"x;y\n" * 30, "not_a_table"),
    ],
)
async def test_refused_files_keep_nothing(
    db: Database, clock: FrozenClock, s: sc.Scenario, cohort: uuid.UUID, body: bytes, code: str
) -> None:
    actor = await _actor(db, clock, s.animator_id)
    with pytest.raises(Invalid) as refused:
        await _preview(db, clock, actor, cohort, body, "f.csv")
    assert (refused.value.code, refused.value.field) == (code, "file")
    async with db.unit_of_work(clock=clock, write=False) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(ImportRun)) == 0


async def test_only_the_team_of_the_territory(
    db: Database, clock: FrozenClock, s: sc.Scenario, cohort: uuid.UUID
) -> None:
    referent = await _actor(db, clock, s.referent_ids[0])
    body = data.csv_bytes(data.people(2))
    with pytest.raises(DomainError) as refused:
        await _preview(db, clock, referent, cohort, body, "a.csv")
    assert getattr(refused.value, "status", None) in (403, 404)
    animator = await _actor(db, clock, s.animator_id)
    run_id = await _preview(db, clock, animator, cohort, body, "a.csv")
    async with db.unit_of_work(clock=clock) as uow:
        with pytest.raises(NotFound):
            await imports.get_run(uow=uow, actor=animator, import_id=uuid.uuid4())
        with pytest.raises(DomainError) as hidden:
            await imports.confirm(uow=uow, actor=referent, import_id=run_id)
        assert getattr(hidden.value, "status", None) in (403, 404)


async def test_the_arq_worker_sweeps_and_imports(
    db: Database,
    clock: FrozenClock,
    settings: Settings,
    s: sc.Scenario,
    cohort: uuid.UUID,
    tmp_path: Path,
) -> None:
    actor = await _actor(db, clock, s.animator_id)
    run_id = await _preview(db, clock, actor, cohort, data.csv_bytes(data.people(5)), "a.csv")
    await _confirm(db, clock, actor, run_id)  # the web's wake-up was lost: the sweep finds it
    with RedisServer(tmp_path) as redis:
        options = worker_settings(
            settings.model_copy(update={"redis_url": redis.url}), clock=clock, db=db
        )
        assert "run_import" in {
            getattr(f, "name", getattr(f, "__name__", "")) for f in options["functions"]
        }
        worker = Worker(**options, burst=True, handle_signals=False, poll_delay=0.05)
        try:
            await worker.async_run()
        finally:
            await worker.close()
            db.on_due_notifications = None
    run = await _run(db, clock, run_id)
    assert (run.state, run.created_count) == (ImportState.DONE, 5)
    assert await _count(db, clock, Person) == 5


async def test_a_preview_never_imported_loses_its_file_after_a_week(
    db: Database, clock: FrozenClock, s: sc.Scenario, cohort: uuid.UUID
) -> None:
    actor = await _actor(db, clock, s.animator_id)
    body = data.csv_bytes(data.people(3))
    old = await _preview(db, clock, actor, cohort, body, "ancien.csv")
    clock.advance(imports.KEEP_PREVIEW + timedelta(minutes=1))
    fresh = await _preview(db, clock, actor, cohort, body, "recent.csv")
    assert await imports.forget_stale(db, clock) == 1
    run = await _run(db, clock, old)
    assert (run.state, run.content, run.error_code) == (ImportState.FAILED, None, "preview_expired")
    assert (await _run(db, clock, fresh)).content == body
    assert await imports.run(db=db, clock=clock, import_id=old) == "not_claimed"
    with pytest.raises(Invalid):
        async with db.unit_of_work(clock=clock) as uow:
            await imports.remap(uow=uow, actor=actor, import_id=old, mapping={})


async def test_the_same_file_after_a_closing_changes_nothing(
    db: Database, clock: FrozenClock, s: sc.Scenario, cohort: uuid.UUID
) -> None:
    actor = await _actor(db, clock, s.animator_id)
    body = data.csv_bytes(data.people(4))  # no entry date: the import's day
    for again in (False, True):
        run_id = await _preview(db, clock, actor, cohort, body, "a.csv")
        await _confirm(db, clock, actor, run_id)
        assert await imports.run(db=db, clock=clock, import_id=run_id) == "done"
        if again:
            break
        async with db.unit_of_work(clock=clock) as uow:  # someone found work the same day
            journey = await uow.session.scalar(select(Journey).limit(1))
            assert journey is not None
            journey.closed_at, journey.closed_reason = clock.now(), "emploi_formation"
    run = await _run(db, clock, run_id)
    assert (run.state, run.unchanged_count, run.created_count) == (ImportState.DONE, 4, 0)
    assert await _count(db, clock, Journey) == 4
    async with db.unit_of_work(clock=clock, write=False) as uow:
        closed = await uow.session.scalar(
            select(func.count()).where(Journey.closed_at.is_not(None))
        )
        assert closed == 1
