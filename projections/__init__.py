"""Read models: one module per read model, each a view (table + queries) and a projection."""
