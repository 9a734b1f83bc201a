"""How staff apps and other services reach the coaching service."""
