"""The site's front page: where a person lands without their link, and the way to the back
office. Holds no personal data."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Response

from rdv_spie.web.pages import render


@get("/", include_in_schema=False)
async def home(request: Request[Any, Any, Any]) -> Response[str]:
    """How to book without the link, and the professionals' login."""
    return render(request, "home", {})
