"""Verify a Standard Webhooks delivery in any web framework: always pass the raw body bytes."""

from __future__ import annotations

import time
from collections.abc import Mapping

from zapier_triggers import WebhookVerificationError
from zapier_triggers.webhooks import Webhook

webhook = Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")


def handle_delivery(raw_body: bytes, headers: Mapping[str, str]) -> int:
    """Return the HTTP status to answer with (2xx acknowledges the delivery)."""
    try:
        payload = webhook.verify(raw_body, headers)
    except WebhookVerificationError as error:
        print("rejected:", error)
        return 400
    print("event delivered:", payload)
    return 204


if __name__ == "__main__":
    body = b'{"type": "order.created", "data": {"order_id": "123"}}'
    now = int(time.time())
    signed = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(now),
        "webhook-signature": webhook.sign("msg_1", now, body),
    }
    print(handle_delivery(body, signed))
    print(handle_delivery(body, {**signed, "webhook-signature": "v1,forged"}))
