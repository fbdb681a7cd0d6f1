"""Standard Webhooks signing against the shared vectors and the standardwebhooks reference library."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from reference_verifier import ClockedWebhook
from standardwebhooks.webhooks import WebhookVerificationError as ReferenceVerificationError

from triggers_server.domain.webhooks.signing import (
    InvalidSecretError,
    WebhookVerificationError,
    decode_secret,
    generate_secret,
    sign,
    signature_header,
    verify,
    webhook_headers,
)

VECTORS = Path(__file__).resolve().parents[3] / ".." / "shared" / "conformance" / "standard-webhooks" / "vectors.json"


def _vectors() -> dict[str, Any]:
    if not VECTORS.exists():
        pytest.skip(f"conformance vectors not found at {VECTORS} (shared folder absent)")
    loaded: dict[str, Any] = json.loads(VECTORS.read_text(encoding="utf-8"))
    return loaded


def _payload(case: dict[str, Any]) -> bytes:
    generator = case.get("payload_generator")
    if generator is not None:
        return str(generator["repeat"]).encode() * int(generator["count"])
    return str(case["payload"]).encode("utf-8")


def test_sign_cases() -> None:
    cases = _vectors()["sign_cases"]
    assert cases
    for case in cases:
        assert sign(case["secret"], case["msg_id"], case["timestamp"], _payload(case)) == case["expected_signature"], (
            case["id"]
        )


def test_verify_cases() -> None:
    cases = [case for case in _vectors()["verify_cases"] if not case.get("ignore_tolerance")]
    assert len(cases) > 20
    for case in cases:
        try:
            verify(case["secret"], _payload(case), case["headers"], now=case["now"])
            outcome = "valid"
        except (WebhookVerificationError, InvalidSecretError):
            outcome = "invalid"
        assert outcome == case["expected"], case["id"]


def test_secret_cases_are_rejected() -> None:
    for case in _vectors()["secret_cases"]:
        with pytest.raises(InvalidSecretError):
            decode_secret(case["secret"])


def test_sign_error_cases() -> None:
    for case in _vectors()["sign_error_cases"]:
        raw = case["timestamp"]
        timestamp: Any = float(raw) if raw.replace(".", "", 1).lstrip("-").isdigit() and "." in raw else raw
        if isinstance(raw, str) and raw.lstrip("-").isdigit():
            timestamp = int(raw)
        with pytest.raises(ValueError):
            sign(case["secret"], case["msg_id"], timestamp, _payload(case))


def test_generated_secret_round_trips_with_reference_library() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_") and len(decode_secret(secret)) == 32
    body = b'{"type":"order.created"}'
    timestamp = 1_800_000_000
    headers = webhook_headers([secret], "dlv_abc", timestamp, body)
    frozen = datetime.fromtimestamp(timestamp, tz=UTC)
    assert ClockedWebhook(secret, lambda: frozen).verify(body, headers) == {"type": "order.created"}
    verify(secret, body, headers, now=timestamp)
    with pytest.raises(ReferenceVerificationError):
        ClockedWebhook(generate_secret(), lambda: frozen).verify(body, headers)


def test_rotation_header_verifies_with_either_secret() -> None:
    old, new = generate_secret(), generate_secret()
    header = signature_header([new, old], "dlv_x", 100, b"{}")
    assert len(header.split(" ")) == 2
    for secret in (old, new):
        verify(
            secret,
            b"{}",
            {"webhook-id": "dlv_x", "webhook-timestamp": "100", "webhook-signature": header},
            now=100,
        )
    with pytest.raises(WebhookVerificationError):
        verify(
            generate_secret(),
            b"{}",
            {"webhook-id": "dlv_x", "webhook-timestamp": "100", "webhook-signature": header},
            now=100,
        )


def test_sign_rejects_dotted_id_and_bad_secret() -> None:
    with pytest.raises(ValueError):
        sign(generate_secret(), "a.b", 1, b"")
    with pytest.raises(InvalidSecretError):
        sign("whsec_!!!", "id", 1, b"")
