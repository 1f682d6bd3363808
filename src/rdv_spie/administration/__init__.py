"""The territory team administers territories, organisations, places and agents: the HTTP
face of the territories and agents rooms (which sit below the web kit)."""
