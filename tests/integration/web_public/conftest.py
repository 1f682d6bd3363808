"""Public booking pages: a scenario territory (tests/support/scenario.py), a cohort of its
single type, and helpers in ``browsing``."""
