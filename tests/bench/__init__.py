"""`make bench`: the command path, the no-op gRPC ceiling, the anchor library and the compliance
figures, measured per storage backend in one run by load clients independent of the services."""
