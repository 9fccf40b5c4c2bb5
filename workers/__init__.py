"""Long-running processes: projection runners, the Kafka relay, consumers, reconcile."""
