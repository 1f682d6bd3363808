"""Calendars room: feed links, the iCalendar builders (pure) and the feeds with ETag."""

# Registers the flush listener that counts people's changes as calendar changes.
from rdv_spie.calendars import cache as _cache  # noqa: F401
