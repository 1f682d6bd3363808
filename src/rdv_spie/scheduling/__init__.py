"""Scheduling room: appointment types, availability, absences, slots (pure), booking."""
