"""The adapters layer of the referral service."""
