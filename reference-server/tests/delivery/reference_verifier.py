"""The standardwebhooks PyPI library (an independent implementation) with an injectable clock.

The library reads the wall clock inside the name-mangled ``Webhook.__verify_timestamp``; tests run on
a ManualClock, so this subclass evaluates the same 5-minute tolerance against the injected time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

TOLERANCE = timedelta(minutes=5)


class ClockedWebhook(Webhook):
    def __init__(self, secret: str, now: Callable[[], datetime]) -> None:
        super().__init__(secret)
        self._now = now

    def _Webhook__verify_timestamp(self, timestamp_header: str) -> datetime:
        try:
            timestamp = datetime.fromtimestamp(float(timestamp_header), tz=UTC)
        except (ValueError, OverflowError) as exc:
            raise WebhookVerificationError("Invalid Signature Headers") from exc
        now = self._now()
        if timestamp < now - TOLERANCE:
            raise WebhookVerificationError("Message timestamp too old")
        if timestamp > now + TOLERANCE:
            raise WebhookVerificationError("Message timestamp too new")
        return timestamp
