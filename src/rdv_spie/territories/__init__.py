"""Territories room: territories (each with its IANA zone), organisations, places and how a
place reads, holidays."""
