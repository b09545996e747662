"""Presence and lone working: the team base board, planned visits, and the
escalation ladder when someone is late back. A buddy-and-escalation log run by
the team, not a certified alarm-receiving service (BS 8484); no live location."""
