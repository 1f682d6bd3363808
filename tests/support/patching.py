"""What every PATCH route promises, checked through the API: a field left out is kept, ``null``
clears a nullable field, ``null`` on a field that cannot be empty is a 400 naming it."""

from __future__ import annotations

from typing import Any

import httpx


async def patched(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    """The resource after a PATCH that must succeed."""
    r = await client.patch(path, headers=headers, json=body)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def clears_and_keeps(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    *,
    nullable: dict[str, Any],
    other: dict[str, Any],
) -> None:
    """Set the ``nullable`` fields; a PATCH of ``other`` only keeps them; ``null`` clears them
    and keeps ``other``; GET agrees."""
    filled = await patched(client, path, headers, nullable)
    assert {k: filled[k] for k in nullable} == nullable
    kept = await patched(client, path, headers, other)
    assert {k: kept[k] for k in nullable} == nullable
    assert {k: kept[k] for k in other} == other
    cleared = await patched(client, path, headers, dict.fromkeys(nullable))
    assert {k: cleared[k] for k in nullable} == dict.fromkeys(nullable)
    assert {k: cleared[k] for k in other} == other
    read = await client.get(path, headers=headers)
    assert read.status_code == 200, read.text
    assert {k: read.json()[k] for k in [*nullable, *other]} == {
        **dict.fromkeys(nullable),
        **other,
    }


async def refuses_null(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], fields: list[str]
) -> None:
    """``null`` on each of ``fields`` is a 400 naming the field, and changes nothing."""
    before = await client.get(path, headers=headers)
    assert before.status_code == 200, before.text
    for field in fields:
        r = await client.patch(path, headers=headers, json={field: None})
        assert r.status_code == 400, f"{field}: {r.status_code} {r.text}"
        problem = r.json()
        assert problem["code"] == "bad_request"
        assert problem["field"] == field, problem
        assert problem["detail"].startswith(f"{field}: "), problem
        assert "null" in problem["detail"], problem
    after = await client.get(path, headers=headers)
    assert after.json() == before.json()
