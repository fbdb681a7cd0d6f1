"""Standard Webhooks sign/verify against the shared vectors (skipped when shared/ is absent)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from zapier_triggers.webhooks import Webhook, WebhookVerificationError

from ..conftest import conformance_file


def _vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(conformance_file("standard-webhooks", "vectors.json").read_text())
    return data


def test_sign_vectors() -> None:
    cases = _vectors()["sign_cases"]
    assert cases
    for case in cases:
        generator = case.get("payload_generator")
        payload = generator["repeat"] * generator["count"] if generator else case["payload"]
        signature = Webhook(case["secret"]).sign(case["msg_id"], case["timestamp"], payload)
        assert signature == case["expected_signature"], case["id"]


def test_verify_vectors() -> None:
    cases = _vectors()["verify_cases"]
    assert len(cases) >= 30
    for case in cases:
        webhook = Webhook(case["secret"], clock=lambda now=case["now"]: float(now))
        try:
            webhook.verify(
                case["payload"].encode(), case["headers"], check_timestamp=not case.get("ignore_tolerance")
            )
            outcome = "valid"
        except WebhookVerificationError:
            outcome = "invalid"
        assert outcome == case["expected"], case["id"]


def test_bad_secrets_are_rejected() -> None:
    for case in _vectors()["secret_cases"]:
        with pytest.raises(WebhookVerificationError):
            Webhook(case["secret"])
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_%%%not-base64")


def test_sign_rejects_non_integer_timestamps() -> None:
    for case in _vectors()["sign_error_cases"]:
        with pytest.raises(WebhookVerificationError):
            Webhook(case["secret"]).sign(case["msg_id"], case["timestamp"], case["payload"])


def test_round_trip_returns_decoded_body_and_rejects_non_json() -> None:
    hook = Webhook(b"raw-key-bytes", clock=lambda: 1_000.0)
    body = b'{"type": "order.created"}'
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": "1000",
        "webhook-signature": hook.sign("msg_1", 1000, body),
    }
    assert hook.verify(body, headers) == {"type": "order.created"}
    assert hook.verify(body.decode(), headers) == {"type": "order.created"}
    text = b"not json"
    headers["webhook-signature"] = hook.sign("msg_1", 1000, text)
    with pytest.raises(WebhookVerificationError, match="JSON"):
        hook.verify(text, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(b"")
