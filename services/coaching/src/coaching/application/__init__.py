"""The application layer of the coaching service."""
