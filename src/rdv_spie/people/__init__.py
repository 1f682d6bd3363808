"""People room: persons, cohorts, journeys (intake arrives with the invitations issue)."""
