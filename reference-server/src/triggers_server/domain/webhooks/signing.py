"""Standard Webhooks v1 (HMAC-SHA256) signing and verification.

Signed content is ``{webhook-id}.{webhook-timestamp}.{raw body}``; the ``webhook-signature`` header
is a space-separated list of ``v1,<base64>`` entries (several during secret rotation) and a
verifier accepts when any ``v1`` entry matches, compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from typing import Final

SECRET_PREFIX: Final = "whsec_"
SECRET_BYTES: Final = 32
SIGNATURE_VERSION: Final = "v1"
DEFAULT_TOLERANCE_SECONDS: Final = 300

HEADER_ID: Final = "webhook-id"
HEADER_TIMESTAMP: Final = "webhook-timestamp"
HEADER_SIGNATURE: Final = "webhook-signature"


class InvalidSecretError(ValueError):
    """The secret is empty or not base64."""


class WebhookVerificationError(Exception):
    """A delivery's headers or signature do not verify."""


def generate_secret() -> str:
    """A fresh ``whsec_`` secret with 256 bits of entropy."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def decode_secret(secret: str) -> bytes:
    """The HMAC key: strip ``whsec_`` and base64-decode (missing ``=`` padding tolerated)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    if not encoded:
        raise InvalidSecretError("webhook secret is empty")
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecretError("webhook secret is not valid base64") from exc
    if not key:
        raise InvalidSecretError("webhook secret is empty")
    return key


def is_valid_secret(secret: str) -> bool:
    try:
        decode_secret(secret)
    except InvalidSecretError:
        return False
    return True


def _digest(key: bytes, msg_id: str, timestamp: int, body: bytes) -> bytes:
    signed = b"%s.%d." % (msg_id.encode("utf-8"), timestamp) + body
    return hmac.new(key, signed, hashlib.sha256).digest()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature entry."""
    if type(timestamp) is not int or timestamp < 0:
        raise ValueError("timestamp must be a non-negative integer number of seconds")
    if "." in msg_id:
        raise ValueError("webhook-id must not contain '.'")
    digest = _digest(decode_secret(secret), msg_id, timestamp, body)
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signature_header(secrets_in_use: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one entry per active secret (new first, then old)."""
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets_in_use)


def webhook_headers(secrets_in_use: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        HEADER_ID: msg_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: signature_header(secrets_in_use, msg_id, timestamp, body),
    }


def verify(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raise :class:`WebhookVerificationError` unless ``headers`` carry a valid, fresh signature."""
    key = decode_secret(secret)
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get(HEADER_ID)
    raw_timestamp = lowered.get(HEADER_TIMESTAMP)
    header = lowered.get(HEADER_SIGNATURE)
    if not msg_id or not raw_timestamp or not header:
        raise WebhookVerificationError("missing required webhook headers")
    if not raw_timestamp.isdigit():
        raise WebhookVerificationError("invalid webhook-timestamp")
    timestamp = int(raw_timestamp)
    if timestamp < now - tolerance:
        raise WebhookVerificationError("message timestamp too old")
    if timestamp > now + tolerance:
        raise WebhookVerificationError("message timestamp too new")
    expected = _digest(key, msg_id, timestamp, body)
    for entry in header.split(" "):
        version, _, encoded = entry.partition(",")
        if version != SIGNATURE_VERSION or not encoded:
            continue
        try:
            candidate = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(candidate, expected):
            return
    raise WebhookVerificationError("no matching signature found")
