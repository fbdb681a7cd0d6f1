"""A real terminal (tmux): `triggers events stream` renders live events and exits cleanly on Ctrl-C.

Runs a real `triggers-server` process on loopback and the CLI in a tmux pane, drives it with
send-keys and reads it with capture-pane. This is the only CLI test that waits for real time,
and only in bounded polls.
"""

from __future__ import annotations

import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from zapier_triggers import SyncTriggersClient

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

API_KEY = "tk_terminaltest_0123456789abcdefghij"
POLL_TIMEOUT = 20.0


def wait_for(condition: Callable[[], bool], what: str, timeout: float = POLL_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "triggers_server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "live.db"),
            "--admin-key",
            API_KEY,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}/v1"

    def healthy() -> bool:
        assert process.poll() is None, (tmp_path / "server.log").read_text()
        try:
            return httpx.get(f"{base_url}/health", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(healthy, "triggers-server to answer /v1/health")
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


class Pane:
    """One tmux session on a private tmux server socket."""

    def __init__(self, command: str) -> None:
        self.socket = f"triggers-cli-test-{uuid.uuid4().hex[:8]}"
        self._tmux("new-session", "-d", "-s", "cli", "-x", "200", "-y", "50", command)

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True)
        return done.stdout

    def text(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "cli")

    def send_keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "cli", *keys)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)


def test_events_stream_renders_and_exits_cleanly_on_ctrl_c(live_server: str, tmp_path: Path) -> None:
    with SyncTriggersClient(api_key=API_KEY, base_url=live_server) as client:
        before = client.events.create(type="order.created", source="tmux-test", data={"before": True})
    env = {
        "TRIGGERS_API_KEY": API_KEY,
        "TRIGGERS_BASE_URL": live_server,
        "TRIGGERS_CONFIG": str(tmp_path / "config.toml"),
    }
    # Resuming after `before` makes the test independent of when the stream connects: whatever is
    # created after the banner shows up, live or from the resume cursor.
    cli = [
        sys.executable,
        "-m",
        "zapier_triggers.cli",
        "events",
        "stream",
        "--type",
        "order.*",
        "--last-event-id",
        str(before.sequence),
    ]
    command = (
        " ".join(f"{key}={shlex.quote(value)}" for key, value in env.items())
        + " "
        + shlex.join(cli)
        + '; echo "exit-code=$?"; sleep 60'
    )
    pane = Pane(command)
    try:
        wait_for(lambda: "Press Ctrl-C to stop" in pane.text(), "the stream banner")
        with SyncTriggersClient(api_key=API_KEY, base_url=live_server) as client:
            client.events.create(type="user.created", source="tmux-test", data={"ignored": True})
            event = client.events.create(type="order.created", source="tmux-test", data={"order_id": "123"})
        line = re.compile(rf'\[\d\d:\d\d:\d\d\] {event.id} order.created {{"order_id":"123"}}')
        wait_for(lambda: bool(line.search(pane.text())), "the streamed event line")
        screen = pane.text()
        assert "user.created" not in screen and before.id not in screen

        pane.send_keys("C-c")
        wait_for(lambda: "exit-code=" in pane.text(), "the CLI to exit after Ctrl-C")
        screen = pane.text()
        assert "exit-code=0" in screen, screen
        assert f"Stopped: 1 event received; resume with --last-event-id {event.sequence}." in screen
        assert "Traceback" not in screen
    finally:
        pane.close()
