"""Rate limits on the ``limits`` library: in memory when embedded, in Redis when scaled."""
