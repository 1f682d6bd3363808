"""Notifications room: the outbox, the message registry, delivery and its policy (sending
window, retries), invitation tokens, transports and the status webhook."""
