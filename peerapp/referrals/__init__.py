"""Referrals: service users, the intervention catalogue, screening, first meetings and contacts."""
