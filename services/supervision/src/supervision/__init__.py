"""Clinical supervision of pre-licensed clinicians: agreements, sessions and the hours they earn."""
