"""Invitations room: tokens, the reminder and sending-window policy, invitation jobs."""
