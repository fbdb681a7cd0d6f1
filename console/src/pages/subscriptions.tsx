/** Webhook subscriptions: create, enable/disable, send a test event, and each one's recent deliveries. */
import type { Delivery, Subscription } from "@zapier-triggers/sdk";
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

import { describeError, useClient } from "../api.js";
import { ErrorLine } from "../text.js";
import { DeliveryTable } from "./event.js";

const RECENT_DELIVERIES = 20;

export function SubscriptionsPage(): JSX.Element {
  const client = useClient();
  const [subscriptions, setSubscriptions] = useState<Subscription[] | null>(null);
  const [generation, setGeneration] = useState(0);
  const [url, setUrl] = useState("");
  const [types, setTypes] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

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
    const eventTypes = types
      .split(",")
      .map((glob) => glob.trim())
      .filter((glob) => glob !== "");
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

function SubscriptionCard(props: { subscription: Subscription; onToggle: () => void; onTest: () => void }): JSX.Element {
  const client = useClient();
  const { subscription } = props;
  const [deliveries, setDeliveries] = useState<Delivery[] | null>(null);

  useEffect(() => {
    let stopped = false;
    client.deliveries.list({ subscriptionId: subscription.id, limit: RECENT_DELIVERIES }).then(
      (page) => {
        if (!stopped) setDeliveries(page.data);
      },
      () => {
        if (!stopped) setDeliveries([]);
      },
    );
    return () => {
      stopped = true;
    };
  }, [client, subscription]);

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
        </button>
        <button type="button" onClick={props.onTest} disabled={!subscription.enabled}>
          Send test event
        </button>
      </p>
      <h3>Recent deliveries</h3>
      {deliveries === null ? <p class="muted">Loading…</p> : <DeliveryTable deliveries={deliveries} />}
    </article>
  );
}
