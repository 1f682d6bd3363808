"""Notifications room: the outbox, rendering, delivery, transports and the status webhook."""
