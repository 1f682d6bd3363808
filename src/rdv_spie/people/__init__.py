"""People room: persons, cohorts, journeys, who follows them, their derived status, and the
CSV and JSON intake (table.py reads cells, rows.py checks a row, contact.py normalises)."""
