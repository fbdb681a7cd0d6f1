/** One webhook delivery: its state and every attempt's full request and response (headers and body). */
import type { Delivery, DeliveryAttempt } from "@zapier-triggers/sdk";
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

import { describeError, useClient } from "../api.js";
import { Link } from "../router.js";
import { Code, ErrorLine, formatTime, Pairs } from "../text.js";

export function DeliveryPage(props: { id: string }): JSX.Element {
  const client = useClient();
  const [delivery, setDelivery] = useState<Delivery | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let stopped = false;
    setDelivery(null);
    setError(null);
    client.deliveries.get(props.id).then(
      (found) => {
        if (!stopped) setDelivery(found);
      },
      (caught: unknown) => {
        if (!stopped) setError(describeError(caught));
      },
    );
    return () => {
      stopped = true;
    };
  }, [client, props.id]);

  const retry = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      setDelivery(await client.deliveries.retry(props.id));
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
    }
  };

  if (delivery === null) {
    return (
      <section>
        <h1>Delivery {props.id}</h1>
        {error === null ? <p class="muted">Loading…</p> : <ErrorLine error={error} />}
      </section>
    );
  }
  return (
    <section>
      <h1>
        Delivery <code>{delivery.id}</code>
      </h1>
      <p>
        Event <Link to={`/events/${encodeURIComponent(delivery.event_id)}`}>{delivery.event_id}</Link> to
        subscription <code>{delivery.subscription_id}</code>
      </p>
      <Pairs
        label="Delivery"
        values={{
          status: delivery.status,
          attempts: delivery.attempt_count,
          last_response_status: delivery.last_response_status ?? "",
          next_attempt_at: formatTime(delivery.next_attempt_at),
          created_at: formatTime(delivery.created_at),
        }}
      />
      <button type="button" disabled={busy} onClick={() => void retry()}>
        Retry now
      </button>
      <ErrorLine error={error} />
      <h2>Attempts</h2>
      {delivery.attempts.length === 0 ? <p class="muted">No attempts yet.</p> : null}
      {delivery.attempts.map((attempt) => (
        <Attempt key={attempt.attempt_number} attempt={attempt} />
      ))}
    </section>
  );
}

function Attempt(props: { attempt: DeliveryAttempt }): JSX.Element {
  const { attempt } = props;
  const outcome = attempt.response_status !== null ? `HTTP ${attempt.response_status}` : (attempt.error ?? "no response");
  return (
    <article class="attempt" aria-label={`Attempt ${attempt.attempt_number}`}>
      <h3>
        Attempt {attempt.attempt_number}: {attempt.succeeded ? "succeeded" : "failed"}, {outcome}, {attempt.duration_ms} ms
      </h3>
      <p class="muted">
        {formatTime(attempt.started_at)} POST {attempt.request_url}
      </p>
      {attempt.error !== null ? <p class="error">{attempt.error}</p> : null}
      <div class="split">
        <div>
          <h4>Request headers</h4>
          <Pairs values={attempt.request_headers} label="Request headers" />
          <h4>Request body</h4>
          <Code text={attempt.request_body} label="Request body" />
        </div>
        <div>
          <h4>Response headers</h4>
          <Pairs values={attempt.response_headers} label="Response headers" />
          <h4>Response body{attempt.response_body_truncated ? " (truncated)" : ""}</h4>
          <Code text={attempt.response_body ?? ""} label="Response body" />
        </div>
      </div>
    </article>
  );
}
