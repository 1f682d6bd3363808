"""The territory team's view of journeys: per cohort, the people with their status and days
left, a person's timeline (entry, invitations and reminders, appointments, committee
requests), and the actions on a journey (invite again now, close with a reason)."""
