"""Background work driven by durable rows: batching, anchor progress, log integration."""
