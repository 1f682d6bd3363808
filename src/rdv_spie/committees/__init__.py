"""Committees room: CTO series, their sessions and members, situation requests, the freeze at
D-3 and the agenda at D-2. Never sends anything itself: messages go through the outbox."""
