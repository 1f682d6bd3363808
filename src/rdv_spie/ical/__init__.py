"""iCalendar files: an event and its UID (event.py), one event as an RFC 5545 calendar
(ics.py), the VTIMEZONE of a zone."""
