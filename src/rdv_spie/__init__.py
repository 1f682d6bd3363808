"""rdv-spie: appointment scheduling for the SPIE."""
