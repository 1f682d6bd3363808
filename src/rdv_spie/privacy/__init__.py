"""Personal data over its life: the retention purge, which erases the people inactive too long.

Above every room, since a person's data lives in all of them."""
