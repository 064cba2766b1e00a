"""Webhooks: users' subscriptions to hub events, and their delivery to HTTP endpoints."""
