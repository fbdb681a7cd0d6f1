"""Webhook delivery: Standard Webhooks signing and the delivery worker."""
