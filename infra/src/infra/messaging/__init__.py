"""The Kafka bus: CloudEvents on the wire, topic administration, the embedded dev broker, the
outbox publisher and the idempotent consumer runtime.

Every module here does I/O (or shapes messages for it) and stays out of the domains.
"""
