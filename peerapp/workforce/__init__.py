"""Peer workforce: roles, recruitment checks, peer leads, induction and supervision."""
