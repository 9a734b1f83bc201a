"""The entrypoints layer of the referral service."""
