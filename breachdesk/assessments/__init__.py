"""Risk assessment of a breach: the ENISA severity aid and the decision a person takes."""
