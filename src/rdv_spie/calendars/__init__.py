"""Calendars room: feed links, what each feed shows, the feed renderer (pure) and the feeds
with ETag."""

# Registers the flush listener that counts people's changes as calendar changes.
from rdv_spie.calendars import cache as _cache  # noqa: F401
