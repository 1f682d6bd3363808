"""Links from a message to back-office pages, built from the pages' path constants.

A message to an agent links to the page where the work is done (a person's journey, the
booking page, a cohort's people, the agenda), never to the JSON API (which asks for a key no
one reading an e-mail holds). The rooms that write messages sit below the rooms that own some
of those pages (journeys), so a kind's page links are declared where every room's paths are
known (``rdv_spie/messages.py``) and handed to the kind as its ``links`` (``registry.py``);
the composer adds what they return to the context.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from rdv_spie.notifications.models import Notification

# (row, the context composed so far, public URL) → the kind's links, added to the context.
Links = Callable[[Notification, Mapping[str, Any], str], dict[str, Any]]

_PLACEHOLDER = re.compile(r"\{(\w+)(?::\w+)?\}")


def page_url(
    public_url: str,
    path: str,
    query: Mapping[str, str | uuid.UUID] | None = None,
    **ids: str | uuid.UUID,
) -> str:
    """The absolute URL of a page: ``path`` is a route's path constant whose placeholders
    (``{journey_id:uuid}``) are filled from ``ids``, each exactly once."""
    left = dict(ids)

    def fill(match: re.Match[str]) -> str:
        return str(left.pop(match.group(1)))

    filled = _PLACEHOLDER.sub(fill, path)
    if left:
        raise ValueError(f"{path!r} has no placeholder for {sorted(left)}")
    suffix = f"?{urlencode({k: str(v) for k, v in query.items()})}" if query else ""
    return f"{public_url.rstrip('/')}{filled}{suffix}"
