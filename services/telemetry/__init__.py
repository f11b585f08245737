"""telemetry: rolls the funnel telemetry and entitlement events up into Postgres (services/telemetry/app.py)."""
