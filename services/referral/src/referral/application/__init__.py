"""The application layer of the referral service."""
