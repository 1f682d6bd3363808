"""Invitations room: the planner (invitations, reminders, alerts to agents) and the public pages
a person reaches from an invitation link (identity check, slots, booking, their appointment)."""
