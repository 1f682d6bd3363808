"""PATCH of a CTO series and of a situation request: a field left out is kept, ``null`` clears a
nullable one (the series' video link or place, the request's "already tried" and urgent reason)
within the rules (a CTO keeps a place or a video link; an urgent request says why), ``null`` on
a field that cannot be empty is a 400 naming the field."""

from __future__ import annotations

from tests.support.cto import Cto
from tests.support.patching import clears_and_keeps, patched, refuses_null


async def test_a_series_clears_its_video_link_or_its_place(cto: Cto) -> None:
    path, auth = f"/api/v1/cto-series/{cto.series_id}", cto.animator
    place = str(cto.s.place_ids[0])
    await clears_and_keeps(
        cto.client,
        path,
        auth,
        nullable={"video_url": "https://visio.example.org/cto-laon-2"},
        other={"capacity": 8, "place_id": place},
    )
    await refuses_null(
        cto.client, path, auth, ["name", "organisation_id", "capacity", "start_time", "active"]
    )
    alone = await cto.client.patch(path, headers=auth, json={"place_id": None})
    assert alone.status_code == 422 and alone.json()["field"] == "place_id", alone.text
    remote = await patched(
        cto.client, path, auth, {"place_id": None, "video_url": "https://visio.example.org/x"}
    )
    assert (remote["place_id"], remote["video_url"]) == (None, "https://visio.example.org/x")


async def test_a_request_clears_what_was_tried_and_its_urgent_reason(cto: Cto) -> None:
    first = (await cto.sessions())[0]
    (person,) = await cto.add_people(1)
    submitted = await cto.submit(first["id"], person)
    assert submitted.status_code == 201, submitted.text
    path, auth = f"/api/v1/cto-requests/{submitted.json()['id']}", cto.auth(cto.s.referent_ids[0])
    await clears_and_keeps(
        cto.client,
        path,
        auth,
        nullable={"already_tried": "Inscription à l'auto-école sociale."},
        other={"summary": "Cherche un logement près du travail.", "thematics": ["logement"]},
    )
    await refuses_null(cto.client, path, auth, ["thematics", "summary", "urgent"])
    urgent = await patched(
        cto.client, path, auth, {"urgent": True, "urgent_reason": "Expulsion le 15 décembre."}
    )
    assert urgent["urgent_reason"] == "Expulsion le 15 décembre."
    kept = await patched(cto.client, path, auth, {"summary": "Expulsion annoncée."})
    assert (kept["urgent"], kept["urgent_reason"]) == (True, "Expulsion le 15 décembre.")
    why = await cto.client.patch(path, headers=auth, json={"urgent_reason": None})
    assert why.status_code == 422 and why.json()["field"] == "urgent_reason", why.text
    calm = await patched(cto.client, path, auth, {"urgent": False, "urgent_reason": None})
    assert (calm["urgent"], calm["urgent_reason"]) == (False, None)
