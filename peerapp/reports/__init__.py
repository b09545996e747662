"""Monitoring: counts only, small numbers suppressed, a chart and a table of the same numbers."""
