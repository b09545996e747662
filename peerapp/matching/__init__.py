"""Matching: the engine that proposes peers for referrals awaiting match."""
