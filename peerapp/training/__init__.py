"""Training rounds: cohorts of six sessions, the register, derived completion."""
