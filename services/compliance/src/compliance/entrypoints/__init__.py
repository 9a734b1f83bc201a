"""How staff apps and other services reach the compliance service."""
