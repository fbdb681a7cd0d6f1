"""Standard Webhooks (https://www.standardwebhooks.com) signing and verification.

Verify against the raw request body, never a re-serialised one: re-encoding JSON changes bytes and
breaks the signature (the classic "works locally, fails in prod" webhook bug).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from ._constants import WEBHOOK_TOLERANCE
from ._exceptions import WebhookVerificationError

__all__ = ["Webhook", "WebhookVerificationError"]

_SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


class Webhook:
    """Verify (and, for tests and relays, sign) webhook deliveries with a ``whsec_…`` secret."""

    def __init__(
        self,
        secret: str | bytes,
        *,
        tolerance: float = WEBHOOK_TOLERANCE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = _decode_secret(secret)
        self._tolerance = tolerance
        self._clock = clock

    def sign(self, msg_id: str, timestamp: int, payload: str | bytes) -> str:
        """The ``webhook-signature`` value (``v1,<base64>``) for this message."""
        if type(timestamp) is not int or timestamp < 0:  # bool/float/str are not unix seconds
            raise WebhookVerificationError("timestamp must be a non-negative integer (unix seconds)")
        body = payload.encode() if isinstance(payload, str) else payload
        signed = f"{msg_id}.{timestamp}.".encode() + body
        digest = hmac.new(self._key, signed, hashlib.sha256).digest()
        return "v1," + base64.b64encode(digest).decode()

    def verify(
        self,
        payload: str | bytes,
        headers: Mapping[str, str],
        *,
        check_timestamp: bool = True,
    ) -> Any:
        """Return the decoded JSON body if the signature verifies; raise otherwise."""
        lowered = {k.lower(): v for k, v in headers.items()}
        msg_id = lowered.get("webhook-id")
        raw_timestamp = lowered.get("webhook-timestamp")
        signatures = lowered.get("webhook-signature")
        if not msg_id or not raw_timestamp or not signatures:
            raise WebhookVerificationError(
                "Missing webhook-id, webhook-timestamp or webhook-signature header"
            )
        timestamp = self._check_timestamp(raw_timestamp, check_timestamp)
        expected = self.sign(msg_id, timestamp, payload).partition(",")[2].encode()
        for candidate in signatures.split(" "):
            version, _, signature = candidate.partition(",")
            if version == "v1" and hmac.compare_digest(signature.encode(), expected):
                body = payload.decode() if isinstance(payload, bytes) else payload
                try:
                    return json.loads(body) if body else None
                except ValueError as exc:
                    raise WebhookVerificationError("Payload is not valid JSON") from exc
        raise WebhookVerificationError("No matching signature found")

    def _check_timestamp(self, raw: str, enforce: bool) -> int:
        try:
            timestamp = int(raw)
        except ValueError as exc:
            raise WebhookVerificationError("Invalid webhook-timestamp header") from exc
        if enforce:
            now = self._clock()
            if timestamp < now - self._tolerance:
                raise WebhookVerificationError("Message timestamp too old")
            if timestamp > now + self._tolerance:
                raise WebhookVerificationError("Message timestamp too new")
        return timestamp


def _decode_secret(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        if not secret:
            raise WebhookVerificationError("Webhook secret must not be empty")
        return secret
    encoded = secret.removeprefix(_SECRET_PREFIX)
    encoded += "=" * (-len(encoded) % 4)  # tolerate secrets copied without base64 padding
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookVerificationError("Webhook secret is not valid base64") from exc
    if not key:
        raise WebhookVerificationError("Webhook secret must not be empty")
    return key
