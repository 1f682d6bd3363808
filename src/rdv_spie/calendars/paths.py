"""The calendars room's back-office path: the agent's calendar links."""

from __future__ import annotations

from rdv_spie.web.paths import CALENDAR

__all__ = ["CALENDAR"]
