/**
 * The live tail: the newest page of events, then the SSE stream from the newest one seen. The SDK's stream
 * reconnects on its own with Last-Event-ID; pausing closes it and resuming opens a new one after the last
 * event shown, so nothing ingested meanwhile is missed and nothing is shown twice.
 */
import type { Event as TriggersEvent, EventStream } from "@zapier-triggers/sdk";
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";

import { describeError, useClient } from "../api.js";
import { Link } from "../router.js";
import { ErrorLine, formatTime, preview } from "../text.js";

const FIRST_PAGE = 50;
const MAX_ROWS = 1000;

type TailState = "loading" | "live" | "paused" | "stopped";

export function EventsPage(): JSX.Element {
  const client = useClient();
  const [draft, setDraft] = useState("");
  const [glob, setGlob] = useState("");
  const [paused, setPaused] = useState(false);
  const [rows, setRows] = useState<TriggersEvent[]>([]);
  const [state, setState] = useState<TailState>("loading");
  const [error, setError] = useState<string | null>(null);
  /** The filter the rows belong to, and the sequence of the newest row: where the next stream starts. */
  const loadedFor = useRef<string | null>(null);
  const cursor = useRef("0");

  useEffect(() => {
    if (paused) {
      setState("paused");
      return undefined;
    }
    let stopped = false;
    let stream: EventStream<TriggersEvent> | null = null;
    const types = glob === "" ? undefined : glob;
    const run = async (): Promise<void> => {
      setError(null);
      if (loadedFor.current !== glob) {
        setState("loading");
        const page = await client.events.list({ type: types, limit: FIRST_PAGE });
        if (stopped) return;
        loadedFor.current = glob;
        cursor.current = String(page.data[0]?.sequence ?? 0);
        setRows(page.data);
      }
      stream = client.events.stream({ types }, { lastEventId: cursor.current });
      setState("live");
      for await (const event of stream) {
        cursor.current = String(event.sequence);
        setRows((previous) => [event, ...previous].slice(0, MAX_ROWS));
      }
    };
    run().catch((caught: unknown) => {
      if (stopped) return;
      setError(describeError(caught));
      setState("stopped");
      loadedFor.current = null;
    });
    return () => {
      stopped = true;
      stream?.close();
    };
  }, [client, glob, paused]);

  const applyFilter = (event: Event): void => {
    event.preventDefault();
    setGlob(draft.trim());
  };

  return (
    <section>
      <h1>Events</h1>
      <form class="filters" onSubmit={applyFilter}>
        <label for="type-glob">Type glob</label>
        <input
          id="type-glob"
          placeholder="order.* (empty: every type)"
          value={draft}
          onInput={(event) => setDraft(event.currentTarget.value)}
        />
        <button type="submit">Apply filter</button>
        <button type="button" onClick={() => setPaused(!paused)}>
          {paused ? "Resume" : "Pause"}
        </button>
        <span class={`tail-state ${state}`} role="status" aria-label="Live tail state">
          {state === "live" ? `Live after #${cursor.current}` : state === "paused" ? `Paused at #${cursor.current}` : state}
        </span>
      </form>
      <ErrorLine error={error} />
      <EventTable events={rows} />
    </section>
  );
}

export function EventTable(props: { events: readonly TriggersEvent[] }): JSX.Element {
  if (props.events.length === 0) return <p class="muted">No events yet.</p>;
  return (
    <table class="rows" aria-label="Events">
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Time</th>
          <th scope="col">Type</th>
          <th scope="col">Source</th>
          <th scope="col">Subject</th>
          <th scope="col">Status</th>
          <th scope="col">Data</th>
        </tr>
      </thead>
      <tbody>
        {props.events.map((event) => (
          <tr key={event.id} data-event-id={event.id}>
            <td>
              <Link to={`/events/${encodeURIComponent(event.id)}`}>{event.sequence}</Link>
            </td>
            <td>{formatTime(event.time)}</td>
            <td>{event.type}</td>
            <td>{event.source}</td>
            <td>{event.subject ?? ""}</td>
            <td>{event.status}</td>
            <td class="data">{preview(event.data)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
