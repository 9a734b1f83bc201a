"""Clinical coaching of clients: engagements, and concerns that send a client back to therapy."""
