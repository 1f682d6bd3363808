"""Database hallway: declarative base, engine, unit of work."""
