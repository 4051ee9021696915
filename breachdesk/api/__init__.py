"""The JSON API (v1) for alerting tools and scripts: bearer tokens, OpenAPI document."""
