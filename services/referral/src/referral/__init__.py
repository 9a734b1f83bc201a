"""The closed referral loop between therapy, coaching, consultation and psychiatry."""
