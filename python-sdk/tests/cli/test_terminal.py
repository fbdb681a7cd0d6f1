"""A real terminal (tmux): `events stream` renders live events and exits on Ctrl-C; `listen` takes keys.

Runs a real `triggers-server` process on loopback (the ``live_server`` fixture) and the CLI in a
tmux pane, drives it with send-keys and reads it with capture-pane. Like the other live-server
tests, it waits for real time only in bounded polls.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from zapier_triggers import SyncTriggersClient

from .live import API_KEY, free_port, run_live_server, wait_for

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


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


def test_listen_keys_retry_filter_and_quit(tmp_path: Path) -> None:
    # No automatic retry within the test (the second attempt is an hour away): only `r` makes one.
    with run_live_server(tmp_path, "--retry-schedule", "0,3600") as base_url:
        refused = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there: every attempt fails
        with SyncTriggersClient(api_key=API_KEY, base_url=base_url) as client:
            client.subscriptions.create(url=refused, event_types=["order.*"])
        env = {
            "TRIGGERS_API_KEY": API_KEY,
            "TRIGGERS_BASE_URL": base_url,
            "TRIGGERS_CONFIG": str(tmp_path / "c"),
        }
        cli = [sys.executable, "-m", "zapier_triggers.cli", "listen", "--interval", "0.2"]
        command = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()) + " " + shlex.join(cli)
        pane = Pane(command + '; echo "exit-code=$?"; sleep 60')
        try:
            wait_for(lambda: "keys: r retry" in pane.text(), "the live view with its key help")
            with SyncTriggersClient(api_key=API_KEY, base_url=base_url) as client:
                event = client.events.create(type="order.created", source="tmux-test")
            wait_for(
                lambda: "1 event · 1 attempt · 1 failed" in pane.text(), "the event and its failed attempt"
            )
            # The pane may be narrow: only the "what" column is cut (with an ellipsis).
            assert re.search(rf"{event.id}\s+order\.", pane.text()), pane.text()
            assert re.search(r"dlv_\w{26}\s+evt_\S+\s+--- failed", pane.text()), pane.text()

            pane.send_keys("r")
            wait_for(lambda: "1 event · 2 attempts · 2 failed" in pane.text(), "the retried attempt")
            assert "scheduled" in pane.text()

            pane.send_keys("f")
            wait_for(lambda: "f filter (deliveries)" in pane.text(), "the deliveries filter")
            assert not re.search(rf"{event.id}\s+order\.", pane.text()), "events are filtered out"

            pane.send_keys("q")
            wait_for(lambda: "exit-code=" in pane.text(), "the CLI to exit on q")
            screen = pane.text()
            assert "exit-code=0" in screen, screen
            assert "Stopped: 1 event, 2 delivery attempts, 2 failed." in screen
            assert "Traceback" not in screen
        finally:
            pane.close()
