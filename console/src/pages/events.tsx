/**
 * The live tail: the newest page of events, then a WebSocket subscription (`events.subscribe`, asyncapi.yaml)
 * from the newest one seen. The SDK reconnects on its own and resubscribes from the last cursor; pausing closes
 * the subscription and resuming opens a new one after the last event shown, so nothing ingested meanwhile is
 * missed and nothing is shown twice. When the WebSocket cannot be used (no subscription confirmed within the
 * connect timeout, e.g. a proxy that refuses upgrades, or the connection is given up later) the tail falls back
 * to the SSE stream from the same cursor; a refusal by the API itself (key, filter) is shown instead.
 *
 * Filters: type glob, source, subject and correlation id are applied by the server (to the list and, as a
 * filter expression, to the stream); a time range bounds the list (with an end, the page shows history and
 * does not stream); the payload search runs over the rows in the page. Up to 10,000 rows are kept and only
 * the visible ones are in the DOM; stream events are added once per animation frame, not one render each.
 */
import {
  APIStatusError,
  constants,
  type EventStream,
  type EventSubscription,
  type EventsListParams,
  type Filter,
  type Event as TriggersEvent,
} from "@zapier-triggers/sdk";
import type { JSX } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";

import { describeError, useClient } from "../api.js";
import { Link } from "../router.js";
import { ErrorLine, formatTime, preview } from "../text.js";

const FIRST_PAGE = 100;
const MAX_ROWS = 10_000;
const ROW_HEIGHT = 30; // px; matches `table.virtual tbody tr` in styles.css
const OVERSCAN = 10;

type TailState = "loading" | "live" | "paused" | "history" | "stopped";
type Transport = "WebSocket" | "SSE";

interface Filters {
  type: string;
  source: string;
  subject: string;
  correlationId: string;
  since: string;
  until: string;
  search: string;
}

const NO_FILTERS: Filters = { type: "", source: "", subject: "", correlationId: "", since: "", until: "", search: "" };

function orUndefined(value: string): string | undefined {
  return value.trim() === "" ? undefined : value.trim();
}

/** A `datetime-local` value (local time, no zone) as RFC 3339 UTC. */
function instant(value: string): string | undefined {
  if (value.trim() === "") return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function listParams(filters: Filters): EventsListParams {
  return {
    type: orUndefined(filters.type),
    source: orUndefined(filters.source),
    subject: orUndefined(filters.subject),
    correlationId: orUndefined(filters.correlationId),
    since: instant(filters.since),
    until: instant(filters.until),
    limit: FIRST_PAGE,
  };
}

/** The tail's filter expression: every given attribute must match exactly. */
function tailFilter(filters: Filters): Filter | undefined {
  const exact: Record<string, string> = {};
  for (const [name, value] of [
    ["source", filters.source],
    ["subject", filters.subject],
    ["correlation_id", filters.correlationId],
  ] as const) {
    const given = orUndefined(value);
    if (given !== undefined) exact[name] = given;
  }
  return Object.keys(exact).length === 0 ? undefined : { exact };
}

/** Whether the subscription was confirmed within the connect timeout (false: use the SSE stream instead). */
async function confirmed(subscription: EventSubscription): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), constants.WS_CONNECT_TIMEOUT_MS);
  });
  try {
    return await Promise.race([subscription.ready().then(() => true as const), late]);
  } catch (error) {
    if (error instanceof APIStatusError) throw error; // the API refused (key, filter): SSE would too
    return false;
  } finally {
    clearTimeout(timer);
  }
}

function matchesSearch(event: TriggersEvent, needle: string): boolean {
  if (needle === "") return true;
  const haystack = `${JSON.stringify(event.data) ?? ""} ${event.data_base64 ?? ""} ${JSON.stringify(event.metadata)}`;
  return haystack.toLowerCase().includes(needle.toLowerCase());
}

export function EventsPage(): JSX.Element {
  const client = useClient();
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [paused, setPaused] = useState(false);
  const [state, setState] = useState<TailState>("loading");
  const [transport, setTransport] = useState<Transport>("WebSocket");
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  /** Newest first. Kept in a ref and re-rendered per frame, so a burst of events costs one render. */
  const rows = useRef<TriggersEvent[]>([]);
  const pending = useRef<TriggersEvent[]>([]);
  const frame = useRef<number | null>(null);
  /** The server-side filters the rows belong to, and the sequence of the newest row: where the next stream starts. */
  const loadedFor = useRef<string | null>(null);
  const cursor = useRef("0");
  const serverKey = JSON.stringify({ ...filters, search: "" });

  useEffect(() => {
    if (paused) {
      setState("paused");
      return undefined;
    }
    let stopped = false;
    let stream: EventStream<TriggersEvent> | null = null;
    let subscription: EventSubscription | null = null;
    const flush = (): void => {
      frame.current = null;
      if (pending.current.length === 0) return;
      rows.current = [...pending.current.reverse(), ...rows.current].slice(0, MAX_ROWS);
      pending.current = [];
      setVersion((value) => value + 1);
    };
    const run = async (): Promise<void> => {
      setError(null);
      if (loadedFor.current !== serverKey) {
        setState("loading");
        const page = await client.events.list(listParams(filters));
        if (stopped) return;
        loadedFor.current = serverKey;
        cursor.current = String(page.data[0]?.sequence ?? 0);
        rows.current = page.data;
        pending.current = [];
        setVersion((value) => value + 1);
      }
      if (instant(filters.until) !== undefined) {
        setState("history");
        return;
      }
      const type = orUndefined(filters.type);
      const filter = tailFilter(filters);
      const show = async (source: AsyncIterable<TriggersEvent>): Promise<void> => {
        for await (const event of source) {
          cursor.current = String(event.sequence);
          pending.current.push(event);
          frame.current ??= requestAnimationFrame(flush);
        }
      };
      subscription = client.events.subscribe({
        types: type === undefined ? undefined : [type],
        filter,
        since: cursor.current,
      });
      try {
        if (await confirmed(subscription)) {
          if (stopped) return;
          setTransport("WebSocket");
          setState("live");
          await show(subscription);
          return;
        }
      } catch (error) {
        if (stopped || error instanceof APIStatusError) throw error;
        // The WebSocket was given up after its reconnects: continue over SSE from the last event shown.
      }
      subscription.close();
      if (stopped) return;
      stream = client.events.stream(
        { types: type, filter: filter === undefined ? undefined : JSON.stringify(filter) },
        { lastEventId: cursor.current },
      );
      setTransport("SSE");
      setState("live");
      await show(stream);
    };
    run().catch((caught: unknown) => {
      if (stopped) return;
      setError(describeError(caught));
      setState("stopped");
      loadedFor.current = null;
    });
    return () => {
      stopped = true;
      subscription?.close();
      stream?.close();
      if (frame.current !== null) cancelAnimationFrame(frame.current);
      flush();
    };
    // `serverKey` stands for `filters` without the search: the search alone never reloads.
  }, [client, serverKey, paused]);

  const shown = useMemo(
    () => rows.current.filter((event) => matchesSearch(event, filters.search.trim())),
    [version, filters.search],
  );

  const field = (name: keyof Filters) => (event: { currentTarget: HTMLInputElement }) =>
    setDraft({ ...draft, [name]: event.currentTarget.value });
  const text = (name: keyof Filters, label: string, placeholder = ""): JSX.Element => (
    <>
      <label for={`filter-${name}`}>{label}</label>
      <input id={`filter-${name}`} type="text" placeholder={placeholder} value={draft[name]} onInput={field(name)} />
    </>
  );
  const when = (name: "since" | "until", label: string): JSX.Element => (
    <>
      <label for={`filter-${name}`}>{label}</label>
      <input id={`filter-${name}`} type="datetime-local" step={1} value={draft[name]} onInput={field(name)} />
    </>
  );
  const stateText =
    state === "live"
      ? `Live after #${cursor.current} (${transport})`
      : state === "paused"
        ? `Paused at #${cursor.current}`
        : state === "history"
          ? "History (the range has an end: not streaming)"
          : state;

  return (
    <section>
      <h1>Events</h1>
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          setFilters({ ...draft });
        }}
      >
        {text("type", "Type glob", "order.* (empty: every type)")}
        {text("source", "Source")}
        {text("subject", "Subject")}
        {text("correlationId", "Correlation id")}
        {when("since", "From")}
        {when("until", "To")}
        {text("search", "Search payloads")}
        <button type="submit">Apply filter</button>
        <button type="button" onClick={() => setPaused(!paused)}>
          {paused ? "Resume" : "Pause"}
        </button>
      </form>
      <p>
        <span class={`tail-state ${state}`} role="status" aria-label="Live tail state">
          {stateText}
        </span>{" "}
        <span class="muted" aria-label="Event count">
          {shown.length === 1 ? "1 event" : `${shown.length} events`}
        </span>
      </p>
      <ErrorLine error={error} />
      <VirtualEventTable events={shown} />
    </section>
  );
}

/** The events table with only the rows in view (plus a margin) in the DOM. */
function VirtualEventTable(props: { events: readonly TriggersEvent[] }): JSX.Element {
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const viewport = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = viewport.current;
    if (element === null) return undefined;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  if (props.events.length === 0) return <p class="muted">No events yet.</p>;
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(props.events.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  return (
    <div class="viewport" ref={viewport} onScroll={(event) => setScrollTop(event.currentTarget.scrollTop)}>
      <table class="rows virtual" aria-label="Events" aria-rowcount={props.events.length + 1}>
        <EventHead />
        <tbody>
          {first > 0 ? <tr class="spacer" aria-hidden="true" style={{ height: `${first * ROW_HEIGHT}px` }} /> : null}
          {props.events.slice(first, last).map((event, index) => (
            <EventRow key={event.id} event={event} rowIndex={first + index + 2} />
          ))}
          {last < props.events.length ? (
            <tr class="spacer" aria-hidden="true" style={{ height: `${(props.events.length - last) * ROW_HEIGHT}px` }} />
          ) : null}
        </tbody>
      </table>
    </div>
  );
}

function EventHead(): JSX.Element {
  return (
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
  );
}

function EventRow(props: { event: TriggersEvent; rowIndex?: number }): JSX.Element {
  const { event } = props;
  return (
    <tr data-event-id={event.id} aria-rowindex={props.rowIndex}>
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
  );
}

/** A short, fully rendered events table (the inbox peek). */
export function EventTable(props: { events: readonly TriggersEvent[] }): JSX.Element {
  if (props.events.length === 0) return <p class="muted">No events.</p>;
  return (
    <table class="rows" aria-label="Events">
      <EventHead />
      <tbody>
        {props.events.map((event) => (
          <EventRow key={event.id} event={event} />
        ))}
      </tbody>
    </table>
  );
}
