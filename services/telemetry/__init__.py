"""telemetry: rolls funnel telemetry and entitlement events up into Postgres (see app.py)."""
