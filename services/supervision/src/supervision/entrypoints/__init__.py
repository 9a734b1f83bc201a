"""How staff apps reach the supervision service: its gRPC API."""
