"""Email: rendering, the durable outbox, the SMTP sender, the worker loop and the dev sink."""
