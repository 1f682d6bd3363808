"""Scheduling room: appointment types, availability, absences, slots (pure), booking."""

# Any write that imports this room bumps the calendar version that validates cached slots.
from rdv_spie.scheduling import cache as _cache  # noqa: F401
