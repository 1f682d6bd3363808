"""iCalendar files: one appointment as an RFC 5545 event, the VTIMEZONE of a zone."""
