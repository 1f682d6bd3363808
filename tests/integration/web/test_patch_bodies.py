"""PATCH bodies: a field left out is kept, ``null`` clears a nullable column (a place's phone, an
appointment type's "what to bring", a cohort's type and structure), ``null`` on a column that
cannot be empty is a 400 naming the field; and every PATCH route of the app takes a body whose
fields default to UNSET, never None, shown in the OpenAPI document as optional and nullable
exactly where null is accepted. (The committees' PATCH routes: tests/integration/committees.)"""

from __future__ import annotations

import types
import typing
from typing import Any

import httpx
import msgspec
from litestar import Litestar
from litestar.routes import HTTPRoute
from tests.support import intake
from tests.support import scenario as sc
from tests.support.patching import clears_and_keeps, patched, refuses_null

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.schemas import Patch


async def test_a_place_clears_its_nullable_fields(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    s = await sc.build(db, clock)
    path, auth = f"/api/v1/places/{s.place_ids[0]}", s.auth()
    await clears_and_keeps(
        client,
        path,
        auth,
        nullable={"postcode": "02100", "city": "Chambry", "phone": "03 23 00 00 00"},
        other={"name": "Maison des solidarités"},
    )
    await refuses_null(client, path, auth, ["name", "kind", "active"])
    # An address place keeps its address; once it is a phone place, the address may go.
    kept = await client.patch(path, headers=auth, json={"address": None})
    assert kept.status_code == 422 and kept.json()["field"] == "address", kept.text
    moved = await patched(client, path, auth, {"kind": "phone", "address": None})
    assert (moved["kind"], moved["address"], moved["name"]) == (
        "phone",
        None,
        "Maison des solidarités",
    )


async def test_an_appointment_type_clears_what_to_bring(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    s = await sc.build(db, clock)
    path, auth = f"/api/v1/appointment-types/{s.single_type_id}", s.auth()
    await clears_and_keeps(
        client,
        path,
        auth,
        nullable={"what_to_bring": "Une pièce d'identité."},
        other={"duration_minutes": 30, "online_cancel": False},
    )
    await refuses_null(
        client, path, auth, ["name", "duration_minutes", "place_ids", "online_cancel"]
    )


async def test_a_cohort_clears_its_type_and_structure(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    s = await sc.build(db, clock)
    cohort = await intake.create_cohort(client, s)
    path, auth = f"/api/v1/cohorts/{cohort}", s.auth()
    # A rule the new values break is a 422 naming the field, not the table's CHECK (a 500),
    # while the cohort still has a type and a structure to look up.
    late = await client.patch(path, headers=auth, json={"send_window_end": "08:00:00"})
    assert late.status_code == 422 and late.json()["field"] == "send_window_end", late.text
    await clears_and_keeps(
        client,
        path,
        auth,
        nullable={
            "appointment_type_id": str(s.tripartite_type_id),
            "organisation_id": str(s.organisation_id),
        },
        other={"entry_delay_days": 20, "reminder_days": [2]},
    )
    await refuses_null(
        client, path, auth, ["name", "entry_delay_days", "reminder_days", "send_window_start"]
    )


def _patch_bodies(app: Litestar) -> dict[str, Any]:
    """The body type of every PATCH route, by path."""
    bodies: dict[str, Any] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if "PATCH" in handler.http_methods:
                data = handler.parsed_fn_signature.parameters.get("data")
                assert data is not None, f"PATCH {route.path} takes no body"
                bodies[route.path] = data.annotation
    return bodies


def _members(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def _nullable(prop: dict[str, Any]) -> bool:
    branches = prop.get("oneOf") or prop.get("anyOf") or [prop]
    return any(b.get("type") == "null" for b in branches)


def _openapi_body(doc: dict[str, Any], path: str) -> dict[str, Any]:
    """The JSON schema of the route's PATCH body in the OpenAPI document."""
    public = "/".join(p.split(":")[0] + "}" if ":" in p else p for p in path.split("/"))
    body = doc["paths"][public]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    component: dict[str, Any] = doc["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return component


def test_every_patch_body_leaves_unsent_fields_unset(app: Litestar) -> None:
    bodies = _patch_bodies(app)
    assert len(bodies) >= 5, bodies  # places, types, cohorts, CTO series and requests
    doc = app.openapi_schema.to_schema()
    for path, body in bodies.items():
        fields = msgspec.structs.fields(body)
        for f in fields:
            where = f"PATCH {path}: {body.__name__}.{f.name}"
            assert f.default is msgspec.UNSET, f"{where} defaults to {f.default!r}, not UNSET"
            assert f.default_factory is msgspec.NODEFAULT, where
            assert msgspec.UnsetType in _members(f.type), f"{where}: {f.type} lacks UnsetType"
        assert issubclass(body, Patch), f"PATCH {path}: {body.__name__} is not a schemas.Patch"
        schema = _openapi_body(doc, path)
        assert not schema.get("required"), f"PATCH {path}: {schema.get('required')}"
        declared = {name: _nullable(prop) for name, prop in schema["properties"].items()}
        typed = {f.encode_name: type(None) in _members(f.type) for f in fields}
        assert declared == typed, f"PATCH {path}: nullable in OpenAPI {declared}, typed {typed}"
