"""Request and response models of the HTTP contract (camelCase on the wire)."""
