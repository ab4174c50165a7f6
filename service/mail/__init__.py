"""Email: rendering, the outbox, the sender and the worker."""
