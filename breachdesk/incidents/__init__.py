"""Incidents: intake, the awareness clock, status, timeline."""
