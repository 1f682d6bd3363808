"""``rdv-spie set-password`` and the appointment types' online cut-offs in the JSON API."""

from __future__ import annotations

import asyncio
import io
import uuid

import httpx
import pytest
from tests.integration.web_office.office_support import Office, body, login
from tests.support import scenario as sc

from rdv_spie import cli
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.settings import Settings


class _Stdin(io.StringIO):
    def isatty(self) -> bool:
        return False


async def test_set_password_lets_the_agent_log_in(
    client: httpx.AsyncClient,
    office: Office,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RDV_DATABASE_URL", settings.database_url)
    email = "Referent1@laon.test"  # any case
    assert (await login(client, email, "tout nouveau mot de passe")).status_code == 400

    def run(password: str, who: str = email) -> int:
        monkeypatch.setattr("sys.stdin", _Stdin(password + "\n"))
        return cli.main(["set-password", who])

    # The command runs its own event loop, as it does from a shell.
    assert await asyncio.to_thread(run, "trop court") == 2
    assert "at least 12" in capsys.readouterr().err
    assert await asyncio.to_thread(run, "tout nouveau mot de passe", "nobody@laon.test") == 1
    assert await asyncio.to_thread(run, "tout nouveau mot de passe") == 0
    response = await login(client, email, "tout nouveau mot de passe")
    assert response.status_code == 303
    assert "Referent1 Test" in body(await client.get("/agent/agenda"))
    # A new password logs out the browsers that logged in with the old one.
    assert await asyncio.to_thread(run, "encore un autre mot de passe") == 0
    assert (await client.get("/agent/agenda")).status_code == 303


async def test_types_carry_their_online_cut_offs(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    s = await sc.build(db, clock)
    created = await client.post(
        "/api/v1/appointment-types/",
        json={
            "territory_id": str(s.territory_id),
            "name": "Orientation obligatoire",
            "online_cancel": False,
            "cancel_cutoff_minutes": 0,
            "move_cutoff_minutes": 1440,
            "what_to_bring": "  Une pièce d'identité et votre notification CAF.  ",
        },
        headers=s.auth(),
    )
    assert created.status_code == 201, created.text
    out = created.json()
    assert (out["online_cancel"], out["cancel_cutoff_minutes"], out["move_cutoff_minutes"]) == (
        False,
        0,
        1440,
    )
    assert out["what_to_bring"] == "Une pièce d'identité et votre notification CAF."
    type_id = uuid.UUID(out["id"])
    defaults = await client.get(f"/api/v1/appointment-types/{s.single_type_id}", headers=s.auth())
    assert (defaults.json()["online_cancel"], defaults.json()["cancel_cutoff_minutes"]) == (
        True,
        240,
    )
    patched = await client.patch(
        f"/api/v1/appointment-types/{type_id}",
        json={"online_cancel": True, "move_cutoff_minutes": 2880, "what_to_bring": ""},
        headers=s.auth(),
    )
    assert patched.status_code == 200, patched.text
    got = (await client.get(f"/api/v1/appointment-types/{type_id}", headers=s.auth())).json()
    assert (got["online_cancel"], got["move_cutoff_minutes"], got["what_to_bring"]) == (
        True,
        2880,
        None,
    )
    assert got["cancel_cutoff_minutes"] == 0
    for field in ("cancel_cutoff_minutes", "move_cutoff_minutes"):
        refused = await client.patch(
            f"/api/v1/appointment-types/{type_id}", json={field: -1}, headers=s.auth()
        )
        assert refused.status_code == 422
        assert refused.json()["field"] == field
