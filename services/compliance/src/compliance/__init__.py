"""Audit-ready views of licensure oversight, as of any date, traceable to their source events."""
