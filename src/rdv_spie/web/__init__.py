"""Web hallway: error mapping, health, routers."""
