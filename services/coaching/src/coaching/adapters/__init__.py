"""The adapters layer of the coaching service."""
