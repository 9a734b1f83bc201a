"""The application layer of the compliance service."""
