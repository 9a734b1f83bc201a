"""The licensure credential registry: one stream per credential holder (`holder`), its commands,
events and errors, and what a supervisor designation requires (`designations`, which the
compliance engine reads too)."""
