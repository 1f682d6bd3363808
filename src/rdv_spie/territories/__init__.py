"""Territories room: territories, organisations, places, holidays and time zones."""
