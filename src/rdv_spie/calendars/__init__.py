"""Calendars room: the iCalendar builder (pure) and, later, feeds."""
