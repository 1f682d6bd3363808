"""Importing people into a cohort in two steps: upload and preview (nothing written), then
import (a worker writes it batch by batch; the page shows progress and ends on a summary);
the history and the rejected rows as CSV."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

ROUTES: list[ControllerRouterHandler] = []
