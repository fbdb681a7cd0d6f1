/**
 * Webhook subscriptions: create, edit, enable/disable, rotate the signing secret, send a test event, and each
 * one's recent deliveries with a response-time chart of their attempts.
 */
import type { Delivery, Subscription } from "@zapier-triggers/sdk";
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

import { describeError, useClient } from "../api.js";
import { maskKey } from "../session.js";
import { CopyButton, ErrorLine, formatTime } from "../text.js";
import { DeliveryTable } from "./event.js";

const RECENT_DELIVERIES = 20;
const CHART_WIDTH = 480;
const CHART_HEIGHT = 120;
const MAX_BAR_WIDTH = 24;

function globs(text: string): string[] {
  return text
    .split(",")
    .map((glob) => glob.trim())
    .filter((glob) => glob !== "");
}

export function SubscriptionsPage(): JSX.Element {
  const client = useClient();
  const [subscriptions, setSubscriptions] = useState<Subscription[] | null>(null);
  const [generation, setGeneration] = useState(0);
  const [url, setUrl] = useState("");
  const [types, setTypes] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [secret, setSecret] = useState<{ id: string; secret: string } | null>(null);

  useEffect(() => {
    let stopped = false;
    const load = async (): Promise<void> => {
      const all: Subscription[] = [];
      for await (const subscription of client.subscriptions.list({ limit: 100 })) all.push(subscription);
      if (!stopped) setSubscriptions(all);
    };
    load().catch((caught: unknown) => {
      if (!stopped) setError(describeError(caught));
    });
    return () => {
      stopped = true;
    };
  }, [client, generation]);

  const act = async (work: () => Promise<string>): Promise<void> => {
    setError(null);
    try {
      setNotice(await work());
      setGeneration((value) => value + 1);
    } catch (caught) {
      setError(describeError(caught));
    }
  };

  const create = (event: Event): void => {
    event.preventDefault();
    const eventTypes = globs(types);
    void act(async () => {
      const created = await client.subscriptions.create({ url: url.trim(), eventTypes });
      setUrl("");
      setTypes("");
      return `Created ${created.id}. Its signing secret is shown once, on the API response; rotate it to get a new one.`;
    });
  };

  return (
    <section>
      <h1>Subscriptions</h1>
      <form class="filters" onSubmit={create}>
        <label for="sub-url">Endpoint URL</label>
        <input id="sub-url" type="url" required value={url} onInput={(event) => setUrl(event.currentTarget.value)} />
        <label for="sub-types">Event type globs (comma-separated)</label>
        <input id="sub-types" value={types} onInput={(event) => setTypes(event.currentTarget.value)} />
        <button type="submit">Create subscription</button>
      </form>
      {notice !== null ? (
        <p class="summary" role="status">
          {notice}
        </p>
      ) : null}
      {secret !== null ? (
        <p aria-label="New signing secret">
          New signing secret of <code>{secret.id}</code>: <code>{maskKey(secret.secret)}</code>{" "}
          <CopyButton text={secret.secret} label="Copy secret" />
        </p>
      ) : null}
      <ErrorLine error={error} />
      {subscriptions === null ? (
        <p class="muted">Loading…</p>
      ) : subscriptions.length === 0 ? (
        <p class="muted">No subscriptions.</p>
      ) : (
        subscriptions.map((subscription) => (
          <SubscriptionCard
            key={subscription.id}
            subscription={subscription}
            onToggle={() =>
              void act(async () => {
                const updated = await client.subscriptions.update(subscription.id, { enabled: !subscription.enabled });
                return `${updated.id} is now ${updated.enabled ? "enabled" : "disabled"}.`;
              })
            }
            onSave={(url, eventTypes) =>
              void act(async () => {
                const updated = await client.subscriptions.update(subscription.id, { url, eventTypes });
                return `Saved ${updated.id}.`;
              })
            }
            onRotate={() =>
              void act(async () => {
                const rotated = await client.subscriptions.rotateSecret(subscription.id);
                if (rotated.secret !== null) setSecret({ id: rotated.id, secret: rotated.secret });
                return `Rotated the signing secret of ${rotated.id}; the old one stays valid for the overlap window.`;
              })
            }
            onTest={() =>
              void act(async () => {
                const delivery = await client.subscriptions.test(subscription.id);
                return `Sent a test event: delivery ${delivery.id} is ${delivery.status}.`;
              })
            }
          />
        ))
      )}
    </section>
  );
}

interface CardActions {
  onToggle: () => void;
  onTest: () => void;
  onRotate: () => void;
  onSave: (url: string, eventTypes: string[]) => void;
}

function SubscriptionCard(props: { subscription: Subscription } & CardActions): JSX.Element {
  const client = useClient();
  const { subscription } = props;
  const [deliveries, setDeliveries] = useState<Delivery[] | null>(null);
  const [editing, setEditing] = useState(false);
  const [url, setUrl] = useState(subscription.url);
  const [types, setTypes] = useState(subscription.event_types.join(", "));

  useEffect(() => {
    let stopped = false;
    const load = async (): Promise<Delivery[]> => {
      const page = await client.deliveries.list({ subscriptionId: subscription.id, limit: RECENT_DELIVERIES });
      // A listed delivery carries no attempts; the chart needs each one's.
      return Promise.all(page.data.map((delivery) => client.deliveries.get(delivery.id)));
    };
    load().then(
      (found) => {
        if (!stopped) setDeliveries(found);
      },
      () => {
        if (!stopped) setDeliveries([]);
      },
    );
    return () => {
      stopped = true;
    };
  }, [client, subscription]);

  const save = (event: Event): void => {
    event.preventDefault();
    setEditing(false);
    props.onSave(url.trim(), globs(types));
  };

  return (
    <article class="card" aria-label={`Subscription ${subscription.id}`}>
      <h2>
        <code>{subscription.id}</code> {subscription.enabled ? "enabled" : `disabled${subscription.disabled_reason ? `: ${subscription.disabled_reason}` : ""}`}
      </h2>
      <p>
        {subscription.url} — types: {subscription.event_types.length === 0 ? "every type" : subscription.event_types.join(", ")}
      </p>
      <p>
        <button type="button" onClick={props.onToggle}>
          {subscription.enabled ? "Disable" : "Enable"}
        </button>{" "}
        <button type="button" onClick={props.onTest} disabled={!subscription.enabled}>
          Send test event
        </button>{" "}
        <button type="button" onClick={props.onRotate}>
          Rotate secret
        </button>{" "}
        <button type="button" onClick={() => setEditing(!editing)} aria-expanded={editing}>
          Edit
        </button>
      </p>
      {editing ? (
        <form class="filters" onSubmit={save}>
          <label for={`edit-url-${subscription.id}`}>URL</label>
          <input id={`edit-url-${subscription.id}`} type="url" required value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
          <label for={`edit-types-${subscription.id}`}>Types</label>
          <input id={`edit-types-${subscription.id}`} value={types} onInput={(e) => setTypes(e.currentTarget.value)} />
          <button type="submit">Save</button>
        </form>
      ) : null}
      <h3>Recent deliveries</h3>
      {deliveries === null ? (
        <p class="muted">Loading…</p>
      ) : (
        <>
          <ResponseTimes deliveries={deliveries} />
          <DeliveryTable deliveries={deliveries} />
        </>
      )}
    </article>
  );
}

/** One bar per attempt of the recent deliveries, oldest first: height = duration, red when it failed. */
function ResponseTimes(props: { deliveries: readonly Delivery[] }): JSX.Element | null {
  const attempts = props.deliveries
    .flatMap((delivery) => delivery.attempts)
    .sort((a, b) => a.started_at.localeCompare(b.started_at));
  if (attempts.length === 0) return null;
  const slowest = Math.max(...attempts.map((attempt) => attempt.duration_ms), 1);
  const width = Math.min(CHART_WIDTH / attempts.length, MAX_BAR_WIDTH);
  return (
    <figure class="chart">
      <svg
        role="img"
        aria-label={`Response times of the last ${attempts.length} attempts, slowest ${slowest} ms`}
        viewBox={`0 0 ${CHART_WIDTH} ${CHART_HEIGHT}`}
        width={CHART_WIDTH}
        height={CHART_HEIGHT}
      >
        {attempts.map((attempt, index) => {
          const height = Math.max((attempt.duration_ms / slowest) * (CHART_HEIGHT - 4), 2);
          return (
            <rect
              key={`${attempt.started_at}-${index}`}
              class={attempt.succeeded ? "bar ok" : "bar failed"}
              x={index * width + 1}
              y={CHART_HEIGHT - height}
              width={Math.max(width - 2, 1)}
              height={height}
            >
              <title>
                {formatTime(attempt.started_at)}: {attempt.duration_ms} ms,{" "}
                {attempt.response_status !== null ? `HTTP ${attempt.response_status}` : (attempt.error ?? "no response")}
              </title>
            </rect>
          );
        })}
      </svg>
      <figcaption class="muted">
        Response time per attempt, oldest first (full height: {slowest} ms); failed attempts in red.
      </figcaption>
    </figure>
  );
}
