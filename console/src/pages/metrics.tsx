/**
 * The numbers of GET /stats over a selectable window (5 minutes, 15 minutes, 1 hour, 24 hours: the contract's
 * `window`): throughput, ingest latency percentiles, delivery success, queue depths, top types, and the window's
 * throughput per bucket (`series`) as a chart and a table.
 */
import type { Stats, StatsBucket } from "@zapier-triggers/sdk";
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

import { describeError, useClient } from "../api.js";
import { ErrorLine } from "../text.js";

/** The contract's `window` values (seconds), with their names. */
export const WINDOWS: readonly (readonly [number, string])[] = [
  [300, "Last 5 minutes"],
  [900, "Last 15 minutes"],
  [3600, "Last hour"],
  [86400, "Last 24 hours"],
];

function percent(rate: number | null): string {
  return rate === null ? "no deliveries" : `${(rate * 100).toFixed(1)} %`;
}

/** A two-column table of counts by name (top event types, delivery errors by cause), in the API's order. */
function CountTable(props: {
  label: string;
  headings: readonly [string, string];
  rows: readonly (readonly [string, number])[];
}): JSX.Element {
  return (
    <table class="rows" aria-label={props.label}>
      <thead>
        <tr>
          <th scope="col">{props.headings[0]}</th>
          <th scope="col">{props.headings[1]}</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map(([name, count]) => (
          <tr key={name}>
            <td>{name}</td>
            <td>{count}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function MetricsPage(): JSX.Element {
  const client = useClient();
  const [stats, setStats] = useState<Stats | null>(null);
  const [windowSeconds, setWindowSeconds] = useState(300);
  const [generation, setGeneration] = useState(0);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    client.ops.stats({ window: windowSeconds }).then(
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
  }, [client, generation, windowSeconds]);

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
          ["Pending deliveries", String(stats.pending_deliveries)],
        ];
  return (
    <section>
      <h1>Metrics</h1>
      <p>
        <label>
          Window{" "}
          <select
            value={String(windowSeconds)}
            onChange={(event) => {
              setStats(null);
              setWindowSeconds(Number((event.target as HTMLSelectElement).value));
            }}
          >
            {WINDOWS.map(([seconds, name]) => (
              <option key={seconds} value={String(seconds)}>
                {name}
              </option>
            ))}
          </select>
        </label>{" "}
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
          <CountTable
            label="Top event types"
            headings={["Type", "Events"]}
            rows={stats.top_event_types.map((entry) => [entry.type, entry.count] as const)}
          />
          <h2>Delivery errors by cause</h2>
          {stats.delivery_errors.length === 0 ? (
            <p class="muted">No failed delivery attempts in this window.</p>
          ) : (
            <CountTable
              label="Delivery errors by cause"
              headings={["Cause", "Failed attempts"]}
              rows={stats.delivery_errors.map((entry) => [entry.cause, entry.count] as const)}
            />
          )}
          <h2>Throughput</h2>
          <SeriesChart series={stats.series} bucketSeconds={stats.bucket_seconds} />
          <details>
            <summary>Throughput per bucket of {stats.bucket_seconds} s</summary>
            <table class="rows" aria-label="Throughput per bucket">
              <thead>
                <tr>
                  <th scope="col">Bucket start</th>
                  <th scope="col">Events</th>
                  <th scope="col">Delivery attempts</th>
                  <th scope="col">Succeeded</th>
                </tr>
              </thead>
              <tbody>
                {stats.series.map((bucket) => (
                  <tr key={bucket.start}>
                    <td>{bucket.start}</td>
                    <td>{bucket.events}</td>
                    <td>{bucket.delivery_attempts}</td>
                    <td>{bucket.deliveries_succeeded}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </section>
  );
}

const CHART_WIDTH = 620;
const CHART_HEIGHT = 120;

/** Events per bucket as bars (inline SVG, nothing fetched); failed delivery attempts drawn on top in red. */
function SeriesChart(props: { series: readonly StatsBucket[]; bucketSeconds: number }): JSX.Element {
  const peak = Math.max(1, ...props.series.map((bucket) => Math.max(bucket.events, bucket.delivery_attempts)));
  const slot = CHART_WIDTH / Math.max(1, props.series.length);
  const total = props.series.reduce((sum, bucket) => sum + bucket.events, 0);
  return (
    <div class="chart">
    <svg
      role="img"
      aria-label={`Events per ${props.bucketSeconds} s bucket: ${total} in ${props.series.length} buckets, at most ${peak} in one`}
      viewBox={`0 0 ${CHART_WIDTH} ${CHART_HEIGHT}`}
      width={CHART_WIDTH}
      height={CHART_HEIGHT}
    >
      {props.series.map((bucket, index) => {
        const height = (bucket.events / peak) * (CHART_HEIGHT - 4);
        const failed = bucket.delivery_attempts - bucket.deliveries_succeeded;
        const failedHeight = (failed / peak) * (CHART_HEIGHT - 4);
        return (
          <g key={bucket.start}>
            <title>{`${bucket.start}: ${bucket.events} events, ${bucket.delivery_attempts} delivery attempts (${failed} failed)`}</title>
            <rect class="bar ok" x={index * slot + 1} y={CHART_HEIGHT - height} width={Math.max(1, slot - 2)} height={height} />
            {failed > 0 ? (
              <rect class="bar failed" x={index * slot + 1} y={CHART_HEIGHT - failedHeight} width={Math.max(1, slot - 2)} height={failedHeight} />
            ) : null}
          </g>
        );
      })}
    </svg>
    </div>
  );
}
