"""The real `triggers-server` process at its edges: the HTTP parser, start-up and shutdown, one process per
database (issue 10 §2 defects 6, 10, 11, 12)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from live_server import LiveServer, running

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("edges")
    with running(folder / "t.db", folder / "server.log") as live:
        yield live


def raw_request(port: int, head: bytes, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Send bytes exactly as given (no client library re-validates them); (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + body)
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(65536)
        header_block, _, rest = received.partition(b"\r\n\r\n")
        lines = header_block.decode("latin-1").split("\r\n")
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
    return int(lines[0].split()[1]), headers, rest


def _post_event(port: int, key: bytes, extra: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    body = b'{"type":"t","source":"s"}'
    head = (
        b"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer tk_" + b"L" * 32 + b"\r\n"
        b"Content-Type: application/json\r\nIdempotency-Key: "
        + key
        + b"\r\n"
        + extra
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\nConnection: close\r\n\r\n"
    )
    return raw_request(port, head, body)


@pytest.mark.parametrize("key", [b"a\x7fb", b"a\x01b", b"tab\x1fkey"])
def test_control_characters_in_an_idempotency_key_are_the_contract_problem(server: LiveServer, key: bytes) -> None:
    status, headers, body = _post_event(server.port, key)
    assert status == 400, body
    assert headers["content-type"].startswith("application/problem+json")
    problem = json.loads(body)
    assert problem["type"] == "https://triggers.dev/problems/invalid-idempotency-key"
    assert problem["request_id"] == headers["x-request-id"]


@pytest.mark.parametrize(
    "extra",
    [
        b"X-Bad: a\x00b\r\n",  # NUL: never valid in a field value
        b"X-Bad : value\r\n",  # whitespace before the colon
        b"X-Folded: a\r\n b\r\n",  # obs-fold
    ],
)
def test_the_parser_stays_strict_about_everything_else(server: LiveServer, extra: bytes) -> None:
    status, _, _ = _post_event(server.port, b"ok-key", extra)
    healthy, _, _ = raw_request(server.port, b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 400
    assert healthy == 200
