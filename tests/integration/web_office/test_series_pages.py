"""The team's series pages (issue 16, item 2): creating and changing a committee series from
plain choices (never a typed RRULE), its generated sessions, refused input said in French with
nothing written, its members and their charter; a referent gets 403, another territory 404."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
from sqlalchemy import func, select
from tests.integration.web_office.office_support import (
    Office,
    body,
    login,
    post_form,
    set_password,
)

from rdv_spie.clock import FrozenClock
from rdv_spie.committees import charter, paths, recurrence
from rdv_spie.committees.models import CtoMember, CtoSeries, CtoSession
from rdv_spie.db.uow import Database
from rdv_spie.web import paths as web_paths


def url(path: str, **ids: object) -> str:
    for name, value in ids.items():
        path = path.replace(f"{{{name}:uuid}}", str(value))
    return path


def fields(office: Office, **changes: str) -> dict[str, str]:
    """A series « un jeudi sur deux à 8 h 30 » at the scenario's place, from Thursday 3 Dec."""
    values = {
        "name": "CTO de Laon",
        "frequency": "fortnightly",
        "weekday": "TH",
        "nth": "1",
        "starts_on": "2026-12-03",
        "start_time": "08:30",
        "duration_minutes": "120",
        "capacity": "10",
        "deadline_days_before": "3",
        "deadline_time": "14:00",
        "freeze_days_before": "3",
        "dispatch_days_before": "2",
        "dispatch_time": "09:00",
        "place_id": str(office.s.place_ids[0]),
        "video_url": "",
    }
    return values | changes


async def sign_in(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, agent_id: uuid.UUID
) -> None:
    email = await set_password(db, clock, agent_id)
    assert (await login(client, email)).status_code == 303


async def create(client: httpx.AsyncClient, office: Office, **changes: str) -> uuid.UUID:
    made = await post_form(
        client, paths.SERIES_NEW, fields(office, **changes), token_from=paths.SERIES_NEW
    )
    assert made.status_code == 303, body(made)
    return uuid.UUID(made.headers["location"].split("/")[-1].split("?")[0])


async def test_a_fortnightly_series_is_created_with_its_sessions(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    await sign_in(client, db, clock, office.s.admin_id)
    form = body(await client.get(paths.SERIES_NEW))
    assert "Une semaine sur deux" in form and "RRULE" not in form
    series_id = await create(client, office)
    page = body(await client.get(url(paths.SERIES, series_id=series_id) + "?fait=serie-creee"))
    assert "La série est créée" in page
    assert "Un jeudi sur deux à 8 h 30, depuis le jeudi 3 décembre 2026." in page
    assert "Jeudi 3 décembre 2026 à 8h30" in page and "Jeudi 17 décembre 2026 à 8h30" in page
    async with db.unit_of_work(clock=clock) as uow:
        row = await uow.session.get(CtoSeries, series_id)
        assert row is not None
        assert row.rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH"
        assert row.territory_id == office.s.territory_id
        assert row.organisation_id == office.s.organisation_id
        made = list(
            await uow.session.scalars(
                select(CtoSession)
                .where(CtoSession.series_id == series_id)
                .order_by(CtoSession.starts_at)
            )
        )
    # The sessions the API would generate: every rule date of the next six months.
    expected = recurrence.dates(
        row.rrule, starts_on=date(2026, 12, 3), first=date(2026, 12, 1), last=date(2027, 6, 2)
    )
    assert [s.occurs_on for s in made] == expected and len(expected) >= 12
    first = made[0]
    assert first.starts_at == datetime(2026, 12, 3, 7, 30, tzinfo=UTC)  # 8:30 in Paris
    assert first.deadline_at == datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # Monday 14:00
    listed = body(await client.get(paths.SERIES_LIST))
    assert "CTO de Laon" in listed and "Un jeudi sur deux à 8 h 30" in listed
    assert "3 jours avant, 14 h" in listed and "10 situations par séance" in listed
    assert "0 membre, dont 0 a signé" in listed


async def test_a_monthly_series_is_said_in_words(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    await sign_in(client, db, clock, office.s.animator_id)
    series_id = await create(
        client,
        office,
        name="CTO mensuel",
        frequency="monthly",
        weekday="TU",
        nth="1",
        start_time="14:00",
        place_id="",
        video_url="https://visio.exemple.fr/cto",
    )
    page = body(await client.get(url(paths.SERIES, series_id=series_id)))
    assert "Le premier mardi du mois à 14 h" in page
    async with db.unit_of_work(clock=clock) as uow:
        row = await uow.session.get(CtoSeries, series_id)
        assert row is not None and row.rrule == "FREQ=MONTHLY;BYDAY=1TU"
        assert row.place_id is None and row.video_url == "https://visio.exemple.fr/cto"


async def test_capacity_and_deadline_change(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    await sign_in(client, db, clock, office.s.admin_id)
    series_id = await create(client, office)
    edit = url(paths.SERIES, series_id=series_id)
    changed = await post_form(
        client,
        edit,
        fields(office, capacity="6", deadline_days_before="4", active="true"),
        token_from=edit,
    )
    assert changed.status_code == 303, body(changed)
    assert "Les réglages de la série sont enregistrés" in body(
        await client.get(changed.headers["location"])
    )
    async with db.unit_of_work(clock=clock) as uow:
        row = await uow.session.get(CtoSeries, series_id)
        assert row is not None and row.capacity == 6 and row.deadline_days_before == 4
        later = await uow.session.scalar(
            select(CtoSession).where(
                CtoSession.series_id == series_id, CtoSession.occurs_on == date(2026, 12, 17)
            )
        )
        assert later is not None
        assert later.deadline_at == datetime(2026, 12, 13, 13, 0, tzinfo=UTC)
    assert "6 situations par séance" in body(await client.get(paths.SERIES_LIST))


async def test_refused_input_is_said_and_nothing_is_written(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    await sign_in(client, db, clock, office.s.admin_id)
    new = paths.SERIES_NEW
    refused = await post_form(
        client,
        new,
        fields(
            office,
            name="",
            capacity="0",
            video_url="ftp://x.fr/abc",
            start_time="8h",
            frequency="daily",
        ),
        token_from=new,
    )
    assert refused.status_code == 422
    text = body(refused)
    assert "Le formulaire contient 5 erreurs" in text
    assert "Remplissez ce champ." in text
    assert "de 1 à 100" in text and "commence par https://" in text
    assert "Indiquez une heure" in text and "Choisissez une valeur dans la liste." in text
    assert 'value="ftp://x.fr/abc"' in text  # what was typed is shown again
    # Refused by the service: neither a place nor a video link; the agenda sent before it
    # freezes.
    nowhere = await post_form(client, new, fields(office, place_id=""), token_from=new)
    assert nowhere.status_code == 422
    assert "Choisissez un lieu ou indiquez un lien de visio" in body(nowhere)
    early = await post_form(client, new, fields(office, dispatch_days_before="5"), token_from=new)
    assert early.status_code == 422
    assert "L'ordre du jour ne peut pas être envoyé avant d'être arrêté" in body(early)
    foreign_place = await post_form(
        client, new, fields(office, place_id=str(office.other.place_ids[0])), token_from=new
    )
    assert foreign_place.status_code == 422
    async with db.unit_of_work(clock=clock) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(CtoSeries)) == 0
        assert await uow.session.scalar(select(func.count()).select_from(CtoSession)) == 0
    # Changing a series: refused, nothing of the form kept; a name taken is said.
    series_id = await create(client, office)
    await create(client, office, name="CTO de Soissons")
    edit = url(paths.SERIES, series_id=series_id)
    clash = await post_form(
        client,
        edit,
        fields(office, name="CTO de Soissons", capacity="7", active="true"),
        token_from=edit,
    )
    assert clash.status_code == 422
    assert "Une série de ce nom existe déjà" in body(clash)
    async with db.unit_of_work(clock=clock) as uow:
        row = await uow.session.get(CtoSeries, series_id)
        assert row is not None and (row.name, row.capacity) == ("CTO de Laon", 10)


async def test_members_are_added_and_removed(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    await sign_in(client, db, clock, office.s.admin_id)
    series_id = await create(client, office)
    page_url = url(paths.SERIES, series_id=series_id)
    members = url(paths.MEMBERS, series_id=series_id)
    referent = office.s.referent_ids[1]
    page = body(await client.get(page_url))
    assert f'<option value="{referent}">' in page
    added = await post_form(client, members, {"agent_id": str(referent)}, token_from=page_url)
    assert added.status_code == 303, body(added)
    page = body(await client.get(added.headers["location"]))
    assert "Le membre est ajouté" in page and "Pas encore signée" in page
    assert f'<option value="{referent}">' not in page
    # An agent of another territory is not in the list: refused, nothing added.
    foreign = await post_form(
        client, members, {"agent_id": str(office.other.referent_ids[0])}, token_from=page_url
    )
    assert foreign.status_code == 422
    assert "Choisissez une valeur dans la liste." in body(foreign)
    async with db.unit_of_work(clock=clock) as uow:
        member = await uow.session.scalar(select(CtoMember).where(CtoMember.series_id == series_id))
        assert member is not None and member.agent_id == referent
        member.charter_version = charter.CURRENT_VERSION
        member.charter_accepted_at = clock.now() - timedelta(days=1)
        count = await uow.session.scalar(
            select(func.count()).select_from(CtoMember).where(CtoMember.series_id == series_id)
        )
        assert count == 1
    page = body(await client.get(page_url))
    assert f"Version {charter.CURRENT_VERSION} signée le lundi 30 novembre 2026" in page
    assert "1 membre, dont 1 a signé la charte en vigueur" in body(
        await client.get(paths.SERIES_LIST)
    )
    remove = url(paths.MEMBER_REMOVE, series_id=series_id, agent_id=referent)
    removed = await post_form(client, remove, {}, token_from=page_url)
    assert removed.status_code == 303
    assert "Le membre est retiré" in body(await client.get(removed.headers["location"]))
    again = await post_form(client, remove, {}, token_from=page_url)
    assert again.status_code == 404
    async with db.unit_of_work(clock=clock) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(CtoMember)) == 0


async def test_a_referent_gets_403_and_another_territory_404(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    await sign_in(client, db, clock, office.s.admin_id)
    series_id = await create(client, office)
    one = url(paths.SERIES, series_id=series_id)
    members = url(paths.MEMBERS, series_id=series_id)
    remove = url(paths.MEMBER_REMOVE, series_id=series_id, agent_id=office.s.referent_ids[0])
    await client.post("/agent/deconnexion", data={})
    client.cookies.clear()
    await sign_in(client, db, clock, office.s.referent_ids[0])
    for path in (paths.SERIES_LIST, paths.SERIES_NEW, one):
        assert (await client.get(path)).status_code == 403, path
    token_page = web_paths.AGENDA
    for path, data in (
        (paths.SERIES_NEW, fields(office)),
        (one, fields(office, active="true")),
        (members, {"agent_id": str(office.s.referent_ids[0])}),
        (remove, {}),
    ):
        assert (await post_form(client, path, data, token_from=token_page)).status_code == 403
    client.cookies.clear()
    await sign_in(client, db, clock, office.other.admin_id)
    assert (await client.get(paths.SERIES_LIST)).status_code == 200
    assert "CTO de Laon" not in body(await client.get(paths.SERIES_LIST))
    assert (await client.get(one)).status_code == 404
    for path, data in (
        (one, fields(office, active="true")),
        (members, {"agent_id": str(office.other.referent_ids[0])}),
        (remove, {}),
    ):
        refused = await post_form(client, path, data, token_from=paths.SERIES_LIST)
        assert refused.status_code == 404, path
    async with db.unit_of_work(clock=clock) as uow:
        row = await uow.session.get(CtoSeries, series_id)
        assert row is not None and row.capacity == 10
        assert await uow.session.scalar(select(func.count()).select_from(CtoMember)) == 0
