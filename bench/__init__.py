"""``billing bench``: raw Kafka/Postgres bounds, the webhook pipeline end to end, reads and scaling."""
