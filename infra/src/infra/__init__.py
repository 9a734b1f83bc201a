"""Continuum's shared infrastructure layer, a library the services import.

`infra.ddd` is pure (domains may use it); everything else does I/O and stays out of domains.
"""
