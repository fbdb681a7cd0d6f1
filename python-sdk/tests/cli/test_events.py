"""`triggers events …` against the in-process reference server."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import cast

import httpx

from zapier_triggers import TriggersClient

from .conftest import Cli, InProcessServer, ndjson, send_events


def test_send_prints_the_seed_confirmation_on_a_terminal_table(cli: Cli, server: InProcessServer) -> None:
    result = cli.ok(
        "events", "send", "--type", "order.created", "--data", '{"order_id": "123"}', "-o", "table"
    )
    match = re.fullmatch(r"Event created: (evt_\w+)\n", result.stdout)
    assert match, result.stdout
    event = server.call(lambda client: client.events.get(match.group(1)))
    assert event.type == "order.created"
    assert event.data == {"order_id": "123"}
    assert event.source == "triggers-cli"


def test_send_piped_prints_the_event_as_one_json_line(cli: Cli) -> None:
    result = cli.ok(
        "events",
        "send",
        "-t",
        "order.paid",
        "-d",
        '{"amount": 5}',
        "--source",
        "shop",
        "--subject",
        "order/1",
        "--metadata",
        "tenant=acme",
        "--correlation-id",
        "wf_1",
    )
    [event] = ndjson(result.stdout)
    assert event["type"] == "order.paid"
    assert event["source"] == "shop"
    assert event["subject"] == "order/1"
    assert event["metadata"] == {"tenant": "acme"}
    assert event["correlation_id"] == "wf_1"
    assert re.match(r"\d{4}-\d\d-\d\dT", event["created_at"]), "JSON keeps ISO-8601 timestamps"


def test_send_same_idempotency_key_twice_returns_the_same_event(cli: Cli) -> None:
    args = ("events", "send", "-t", "order.created", "-d", "{}", "--idempotency-key", "k-1")
    first = ndjson(cli.ok(*args).stdout)[0]
    second = ndjson(cli.ok(*args).stdout)[0]
    assert first["id"] == second["id"]


def test_send_data_from_a_file(cli: Cli, tmp_path: Path) -> None:
    payload = tmp_path / "data.json"
    payload.write_text('{"from": "file"}')
    event = ndjson(cli.ok("events", "send", "-t", "a.b", "-d", f"@{payload}").stdout)[0]
    assert event["data"] == {"from": "file"}


def test_send_invalid_json_is_a_usage_error(cli: Cli) -> None:
    result = cli("events", "send", "-t", "a.b", "-d", "{not json")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --data is not valid JSON")
    assert result.stdout == ""


def test_send_needs_type_or_file(cli: Cli) -> None:
    result = cli("events", "send")
    assert result.exit_code == 2
    assert "either --type" in result.stderr


def test_send_rejected_by_the_api_prints_problem_and_request_id(cli: Cli) -> None:
    result = cli("events", "send", "-t", "", "-d", "{}")
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: 422 ")
    assert re.search(r"\(request \S+\)$", line), line


def test_send_file_batches_ndjson_and_reports_each_line(
    cli: Cli, server: InProcessServer, tmp_path: Path
) -> None:
    source = tmp_path / "events.ndjson"
    lines = [json.dumps({"type": "bulk.item", "data": {"i": i}}) for i in range(7)]
    lines.insert(3, "")
    source.write_text("\n".join(lines) + "\n")
    result = cli.ok("events", "send", "--file", str(source), "--batch-size", "3")
    outcomes = ndjson(result.stdout)
    assert [o["status"] for o in outcomes] == ["created"] * 7
    assert [o["line"] for o in outcomes] == [1, 2, 3, 5, 6, 7, 8]
    assert "Sent 7 events" in result.stderr and "7 created" in result.stderr

    async def count(client: TriggersClient) -> int:
        return len([e async for e in client.events.list(type=["bulk.item"])])

    assert server.call(count) == 7


def test_send_file_with_a_rejected_item_exits_4_and_names_the_line(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "events.ndjson"
    source.write_text('{"type": "ok.one"}\n{"type": "ok.two", "time": "yesterday"}\n')
    result = cli("events", "send", "--file", str(source), "-o", "table")
    assert result.exit_code == 4, result.stderr
    assert "1 created" in result.stderr and "1 rejected" in result.stderr
    assert "line 2:" in result.stderr


def test_send_file_with_malformed_line_sends_nothing(
    cli: Cli, server: InProcessServer, tmp_path: Path
) -> None:
    source = tmp_path / "events.ndjson"
    source.write_text('{"type": "ok.one"}\n{oops\n')
    result = cli("events", "send", "--file", str(source))
    assert result.exit_code == 2
    assert f"{source}:2: not valid JSON" in result.stderr

    async def count(client: TriggersClient) -> int:
        return len([e async for e in client.events.list()])

    assert server.call(count) == 0


def test_send_file_from_stdin(cli: Cli) -> None:
    result = cli.ok("events", "send", "--file", "-", input='{"type": "stdin.event"}\n')
    assert ndjson(result.stdout)[0]["status"] == "created"


def test_list_table_shows_relative_times_and_filters_by_type(cli: Cli, server: InProcessServer) -> None:
    send_events(server, ["order.created", "order.updated", "user.created"])
    result = cli.ok("events", "list", "--type", "order.*", "-o", "table")
    header, *rows = result.stdout.strip().splitlines()
    assert header.split() == ["ID", "TYPE", "SOURCE", "STATUS", "CREATED"]
    assert len(rows) == 2
    assert all(re.search(r"(just now|\d+s ago)$", row.rstrip()) for row in rows), rows
    assert not any("user.created" in row for row in rows)


def test_list_piped_is_ndjson_with_limit(cli: Cli, server: InProcessServer) -> None:
    send_events(server, ["a.one", "a.two", "a.three"])
    events = ndjson(cli.ok("events", "list", "--limit", "2").stdout)
    assert len(events) == 2
    assert all(e["id"].startswith("evt_") for e in events)


def test_list_json_is_one_array(cli: Cli, server: InProcessServer) -> None:
    send_events(server, ["a.one", "a.two"])
    events: object = json.loads(cli.ok("events", "list", "-o", "json").stdout)
    assert isinstance(events, list)
    assert [e["type"] for e in cast("list[dict[str, str]]", events)] == ["a.two", "a.one"]


def test_list_since_accepts_durations_and_rejects_garbage(cli: Cli, server: InProcessServer) -> None:
    send_events(server, ["a.one"])
    assert len(ndjson(cli.ok("events", "list", "--since", "10m").stdout)) == 1
    result = cli("events", "list", "--since", "last tuesday")
    assert result.exit_code == 2
    assert "--since/--until" in result.stderr


def test_list_empty_table_says_so(cli: Cli) -> None:
    result = cli.ok("events", "list", "-o", "table")
    assert result.stdout == ""
    assert "No events." in result.stderr


def test_get_shows_fields_and_payload(cli: Cli, server: InProcessServer) -> None:
    [event_id] = send_events(server, ["order.created"])
    table = cli.ok("events", "get", event_id, "-o", "table").stdout
    assert event_id in table
    assert '"n": 0' in table
    assert re.search(r"created_at\s+(just now|\d+s ago) \(\d{4}-\d\d-\d\dT", table), "relative, then ISO-8601"
    as_json = json.loads(cli.ok("events", "get", event_id, "-o", "json").stdout)
    assert as_json["id"] == event_id


def test_get_unknown_event_is_an_api_error(cli: Cli) -> None:
    result = cli("events", "get", "evt_doesnotexist")
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: 404 ")
    assert "(request " in line


def test_stream_resumes_from_last_event_id_and_stops_after_count(cli: Cli, server: InProcessServer) -> None:
    ids = send_events(server, ["order.created", "user.created", "order.updated", "order.paid"])
    result = cli.ok("events", "stream", "--type", "order.*", "--last-event-id", "0", "--count", "2")
    streamed = ndjson(result.stdout)
    assert [e["id"] for e in streamed] == [ids[0], ids[2]]
    last_sequence = streamed[-1]["sequence"]
    assert f"resume with --last-event-id {last_sequence}" in result.stderr

    resumed = ndjson(
        cli.ok(
            "events", "stream", "-t", "order.*", "--last-event-id", str(last_sequence), "--count", "1"
        ).stdout
    )
    assert [e["id"] for e in resumed] == [ids[3]]


def test_stream_table_lines_look_like_the_seed(cli: Cli, server: InProcessServer) -> None:
    [event_id] = send_events(server, ["order.created"])
    result = cli.ok("events", "stream", "--last-event-id", "0", "--count", "1", "-o", "table")
    assert re.fullmatch(rf'\[\d\d:\d\d:\d\d\] {event_id} order.created {{"n":0}}\n', result.stdout), (
        result.stdout
    )


def test_replay_dry_run_then_to_inbox_with_patch(cli: Cli, server: InProcessServer) -> None:
    [event_id] = send_events(server, ["order.created"])
    dry = json.loads(cli.ok("events", "replay", event_id, "--to-inbox", "--dry-run", "-o", "json").stdout)
    assert dry["dry_run"] is True and dry["event"] is None

    result = cli.ok("events", "replay", event_id, "--to-inbox", "--patch", '{"n": 41}', "-o", "table")
    match = re.search(rf"Replayed {event_id} as (evt_\w+)", result.stdout)
    assert match, result.stdout
    copy = server.call(lambda client: client.events.get(match.group(1)))
    assert copy.replay_of == event_id
    assert copy.data == {"n": 41}


def test_replay_rejects_two_targets_and_non_object_patch(cli: Cli, server: InProcessServer) -> None:
    [event_id] = send_events(server, ["order.created"])
    both = cli("events", "replay", event_id, "--to-inbox", "--to-subscription", "sub_x")
    assert both.exit_code == 2
    bad_patch = cli("events", "replay", event_id, "--patch", "[1]")
    assert bad_patch.exit_code == 2
    assert "JSON object" in bad_patch.stderr


class DropStreamAfterFirstEvent(httpx.AsyncBaseTransport):
    """Cuts the first stream connection right after its first event, as a flaky network would."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.stream_requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.endswith("/events/stream"):
            return response
        self.stream_requests.append(request)
        if len(self.stream_requests) > 1:
            return response
        return httpx.Response(
            response.status_code, headers=response.headers, stream=_CutAfterFirstEvent(response.stream)
        )


class _CutAfterFirstEvent(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream | httpx.AsyncByteStream) -> None:
        assert isinstance(inner, httpx.AsyncByteStream)
        self.inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.inner:
            yield chunk
            if b"data:" in chunk:
                raise httpx.ReadError("connection reset (test)")

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_stream_resumes_after_a_dropped_connection(cli: Cli, server: InProcessServer) -> None:
    ids = send_events(server, ["order.created", "order.updated", "order.paid"])
    flaky: list[DropStreamAfterFirstEvent] = []

    def wrap(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        flaky.append(DropStreamAfterFirstEvent(inner))
        return flaky[-1]

    result = cli.ok(
        "events", "stream", "--last-event-id", "0", "--count", "3", api_http=lambda: server.http(wrap)
    )
    assert [e["id"] for e in ndjson(result.stdout)] == ids
    _, second = flaky[0].stream_requests
    assert second.headers["last-event-id"] == "1", "the reconnect resumes after the last delivered event"
    assert "reconnecting" in result.stderr, "the SDK's reconnect notice is shown"


def test_stream_reports_a_reset_when_the_cursor_expired(cli: Cli, server: InProcessServer) -> None:
    [event_id] = send_events(server, ["order.created"])
    event = server.call(lambda client: client.events.get(event_id))
    body = (
        "retry: 3000\n\n"
        'event: reset\ndata: {"reason": "cursor_expired", "oldest_sequence": 1}\n\n'
        f"id: {event.sequence}\nevent: order.created\ndata: {event.model_dump_json()}\n\n"
    )

    def sse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, text=body)

    @asynccontextmanager
    async def expired_cursor() -> AsyncGenerator[httpx.AsyncClient, None]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(sse)) as http:
            yield http

    result = cli.ok("events", "stream", "--last-event-id", "0", "--count", "1", api_http=expired_cursor)
    assert "Stream reset (cursor_expired): events before sequence 1 have expired" in result.stderr
    assert [e["id"] for e in ndjson(result.stdout)] == [event_id]


def test_stream_with_a_bad_key_fails_at_once(cli: Cli) -> None:
    result = cli("events", "stream", "--api-key", "tk_wrong_000000000000000000000000")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith("Error: 401 ")


def test_a_stream_that_gives_up_still_prints_where_to_resume(cli: Cli, server: InProcessServer) -> None:
    ids = send_events(server, ["order.created", "order.paid"])

    class ServerGoesAway(httpx.AsyncBaseTransport):
        """Serves the first stream connection (cut after one event), then refuses every reconnect."""

        def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
            self.inner = DropStreamAfterFirstEvent(inner)

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if self.inner.stream_requests and request.url.path.endswith("/events/stream"):
                raise httpx.ConnectError("Connection refused", request=request)
            return await self.inner.handle_async_request(request)

    result = cli("events", "stream", "--last-event-id", "0", api_http=lambda: server.http(ServerGoesAway))
    assert result.exit_code == 3
    assert [e["id"] for e in ndjson(result.stdout)] == ids[:1]
    *_, summary, error = result.stderr.splitlines()
    assert summary == "Failed: 1 event received; resume with --last-event-id 1."
    assert (
        error
        == "Error: could not reach http://triggers.test: Event stream connection lost: Connection refused"
    )


def test_send_file_that_fails_midway_says_what_was_not_sent(
    cli: Cli, server: InProcessServer, tmp_path: Path
) -> None:
    source = tmp_path / "events.ndjson"
    source.write_text("".join(json.dumps({"type": "bulk.item", "data": {"i": i}}) + "\n" for i in range(5)))

    class SecondBatchFails(httpx.AsyncBaseTransport):
        def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
            self.inner = inner
            self.batches = 0

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/events/batch"):
                self.batches += 1
                if self.batches > 1:
                    raise httpx.ConnectError("Connection refused", request=request)
            return await self.inner.handle_async_request(request)

    result = cli(
        "events",
        "send",
        "--file",
        str(source),
        "--batch-size",
        "2",
        api_http=lambda: server.http(SecondBatchFails),
    )
    assert result.exit_code == 3
    assert "Stopped after 2 of 5 events: lines 3 onwards were not sent." in result.stderr
    assert result.stderr.splitlines()[-1].startswith("Error: could not reach")
