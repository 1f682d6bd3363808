"""Who read which person's file: one row per person shown to an agent, kept for a year."""
