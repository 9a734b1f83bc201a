"""How the supervision service meets the outside: what it publishes."""
