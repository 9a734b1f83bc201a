"""How staff apps and other services reach the referral service."""
