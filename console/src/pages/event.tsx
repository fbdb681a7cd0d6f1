/** One event: its envelope, pretty data, metadata and extensions, copy-as-curl, and its deliveries. */
import type { Delivery, Event as TriggersEvent } from "@zapier-triggers/sdk";
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

import { apiBase, describeError, useClient } from "../api.js";
import { cloudEventOf, curlForEvent, goForEvent, pythonForEvent, typescriptForEvent } from "../snippets.js";
import { Link } from "../router.js";
import { Code, CopyButton, ErrorLine, formatTime, Pairs, pretty } from "../text.js";
import { CorrelationTree } from "./correlation.js";
import { ReplayPanel } from "./replay.js";

const ENVELOPE: readonly (keyof TriggersEvent)[] = [
  "id",
  "external_id",
  "sequence",
  "type",
  "source",
  "subject",
  "time",
  "specversion",
  "datacontenttype",
  "dataschema",
  "schema_version",
  "correlation_id",
  "causation_id",
  "replay_of",
  "status",
  "delivery_count",
];

export function EventPage(props: { id: string }): JSX.Element {
  const client = useClient();
  const [event, setEvent] = useState<TriggersEvent | null>(null);
  const [deliveries, setDeliveries] = useState<Delivery[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    setEvent(null);
    setDeliveries(null);
    setError(null);
    const load = async (): Promise<void> => {
      const found = await client.events.get(props.id);
      if (stopped) return;
      setEvent(found);
      const all: Delivery[] = [];
      for await (const delivery of client.events.listDeliveries(props.id, { limit: 100 })) all.push(delivery);
      if (!stopped) setDeliveries(all);
    };
    load().catch((caught: unknown) => {
      if (!stopped) setError(describeError(caught));
    });
    return () => {
      stopped = true;
    };
  }, [client, props.id]);

  if (event === null) {
    return (
      <section>
        <h1>Event {props.id}</h1>
        {error === null ? <p class="muted">Loading…</p> : <ErrorLine error={error} />}
      </section>
    );
  }
  const curl = curlForEvent(event, apiBase());
  const envelope = Object.fromEntries(ENVELOPE.map((name) => [name, event[name] ?? ""]));
  return (
    <section>
      <h1>
        Event <code>{event.id}</code>
      </h1>
      <p>
        <Link to="/events">← Events</Link>
      </p>
      <h2>Envelope</h2>
      <Pairs values={envelope} label="Envelope" />
      <h2>Data</h2>
      {event.data_base64 !== null ? (
        <Code text={event.data_base64} label="Data (base64)" />
      ) : (
        <Code text={pretty(event.data)} label="Data" />
      )}
      <h2>Metadata</h2>
      <Pairs values={event.metadata} label="Metadata" />
      <h2>Extensions</h2>
      <Pairs values={event.extensions} label="Extensions" />
      <h2>CloudEvents view</h2>
      <Code text={pretty(cloudEventOf(event))} label="CloudEvent" />
      <h2>Causation chain</h2>
      <CorrelationTree key={event.id} event={event} />
      <h2>Copy as curl</h2>
      <Code text={curl} label="curl command" />
      <CopyButton text={curl} label="Copy curl" />
      <h2>Copy as SDK call</h2>
      {(
        [
          ["Python", pythonForEvent(event)],
          ["TypeScript", typescriptForEvent(event)],
          ["Go", goForEvent(event)],
        ] as const
      ).map(([language, snippet]) => (
        <details key={language}>
          <summary>{language}</summary>
          <Code text={snippet} label={`${language} call`} />
          <CopyButton text={snippet} label={`Copy ${language}`} />
        </details>
      ))}
      <h2>Deliveries</h2>
      <ErrorLine error={error} />
      {deliveries === null ? <p class="muted">Loading…</p> : <DeliveryTable deliveries={deliveries} />}
      <h2>Replay</h2>
      <ReplayPanel key={event.id} event={event} />
    </section>
  );
}

export function DeliveryTable(props: { deliveries: readonly Delivery[] }): JSX.Element {
  if (props.deliveries.length === 0) return <p class="muted">No deliveries.</p>;
  return (
    <table class="rows" aria-label="Deliveries">
      <thead>
        <tr>
          <th scope="col">Delivery</th>
          <th scope="col">Subscription</th>
          <th scope="col">Status</th>
          <th scope="col">Attempts</th>
          <th scope="col">Last status code</th>
          <th scope="col">Last attempt</th>
        </tr>
      </thead>
      <tbody>
        {props.deliveries.map((delivery) => (
          <tr key={delivery.id}>
            <td>
              <Link to={`/deliveries/${encodeURIComponent(delivery.id)}`}>{delivery.id}</Link>
            </td>
            <td>{delivery.subscription_id}</td>
            <td>{delivery.status}</td>
            <td>{delivery.attempt_count}</td>
            <td>{delivery.last_response_status ?? ""}</td>
            <td>{formatTime(delivery.last_attempt_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
