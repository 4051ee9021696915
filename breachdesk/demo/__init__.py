"""The demo: an inventory drawn from the seed policies, demo accounts, and the embedded server."""
