/** The numbers of GET /stats: throughput, ingest latency percentiles, delivery success, queue depths, top types. */
import type { Stats } from "@zapier-triggers/sdk";
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

import { describeError, useClient } from "../api.js";
import { ErrorLine } from "../text.js";

function percent(rate: number | null): string {
  return rate === null ? "no deliveries" : `${(rate * 100).toFixed(1)} %`;
}

export function MetricsPage(): JSX.Element {
  const client = useClient();
  const [stats, setStats] = useState<Stats | null>(null);
  const [generation, setGeneration] = useState(0);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    client.ops.stats().then(
      (found) => {
        if (!stopped) setStats(found);
      },
      (caught: unknown) => {
        if (!stopped) setError(describeError(caught));
      },
    );
    return () => {
      stopped = true;
    };
  }, [client, generation]);

  const numbers: readonly (readonly [string, string])[] =
    stats === null
      ? []
      : [
          ["Window", `${stats.window_seconds} s`],
          ["Ingest rate", `${stats.ingest_rate_per_second.toFixed(2)} events/s`],
          ["Ingest latency p50", `${stats.ingest_latency_ms.p50} ms`],
          ["Ingest latency p95", `${stats.ingest_latency_ms.p95} ms`],
          ["Ingest latency p99", `${stats.ingest_latency_ms.p99} ms`],
          ["Delivery success rate", percent(stats.delivery_success_rate)],
          ["Inbox depth", String(stats.inbox_depth)],
          ["DLQ depth", String(stats.dlq_depth)],
        ];
  return (
    <section>
      <h1>Metrics</h1>
      <p>
        <button type="button" onClick={() => setGeneration((value) => value + 1)}>
          Refresh
        </button>
      </p>
      <ErrorLine error={error} />
      {stats === null ? (
        error === null ? <p class="muted">Loading…</p> : null
      ) : (
        <>
          <dl class="numbers" aria-label="Statistics">
            {numbers.map(([name, value]) => (
              <div key={name}>
                <dt>{name}</dt>
                <dd>{value}</dd>
              </div>
            ))}
          </dl>
          <h2>Top event types</h2>
          <table class="rows" aria-label="Top event types">
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col">Events</th>
              </tr>
            </thead>
            <tbody>
              {stats.top_event_types.map((entry) => (
                <tr key={entry.type}>
                  <td>{entry.type}</td>
                  <td>{entry.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
