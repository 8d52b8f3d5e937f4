"""Records: a hash, its metadata and its RFC 3161 token. Every route family's resource is
a view of one record."""
