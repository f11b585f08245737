"""The backlog gauges catalog_sync refreshes (consumer lag, dead letters, outbox, secret age): they read
Kafka, the outbox and the secret provider, so they sit above shared.messaging and shared.security,
which themselves count into shared.observability's metrics."""
