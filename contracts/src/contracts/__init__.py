"""The language between Continuum's services: event schemas and topics (gRPC APIs live in `continuum`)."""
