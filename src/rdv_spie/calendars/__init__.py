"""Calendars room: feed links, what each feed shows, the feed renderer (pure) and the feeds
with ETag."""
