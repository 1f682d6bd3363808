"""Personal data over its life: the retention purge (and, with it, erasing a person on request).

Above every room, since a person's data lives in all of them."""
