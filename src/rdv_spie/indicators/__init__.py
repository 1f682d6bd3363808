"""Indicators room: what the entry-delay promise measures."""
