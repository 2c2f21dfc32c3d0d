"""What leaves the server: signed webhooks and the clinic's emails, delivered from the store's outbox."""
