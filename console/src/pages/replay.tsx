/**
 * Replay one event ("time travel"): a JSON Merge Patch for the copy's data, a dry run that says what each target
 * would do, and a comparison of the original and the replay side by side (data, changed fields, per-target outcome,
 * and each side's deliveries with status codes and latency).
 */
import type { Delivery, Event as TriggersEvent, EventReplayResult } from "@zapier-triggers/sdk";
import type { JSX } from "preact";
import { useState } from "preact/hooks";

import { describeError, useClient } from "../api.js";
import { applyMergePatch, diff } from "../json-diff.js";
import { Link } from "../router.js";
import { Code, ErrorLine, pretty, preview } from "../text.js";

type TargetKind = "all" | "inbox";

interface Comparison {
  result: EventReplayResult;
  after: unknown;
  original: Delivery[];
  replay: Delivery[];
}

export function ReplayPanel(props: { event: TriggersEvent }): JSX.Element {
  const client = useClient();
  const { event } = props;
  const [patch, setPatch] = useState("{}");
  const [target, setTarget] = useState<TargetKind>("all");
  const [comparison, setComparison] = useState<Comparison | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const deliveriesOf = async (eventId: string | undefined): Promise<Delivery[]> =>
    eventId === undefined ? [] : (await client.events.listDeliveries(eventId, { limit: 100 })).data;

  const run = async (dryRun: boolean): Promise<void> => {
    setError(null);
    let dataPatch: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(patch.trim() === "" ? "{}" : patch);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
      dataPatch = Object.keys(parsed).length === 0 ? undefined : (parsed as Record<string, unknown>);
    } catch {
      setError("The data patch must be a JSON object (a JSON Merge Patch, RFC 7386).");
      return;
    }
    setBusy(true);
    try {
      const result = await client.events.replay(event.id, { target: { kind: target }, dataPatch, dryRun });
      const after = result.event !== null ? result.event.data : applyMergePatch(event.data, dataPatch ?? {});
      const [original, replay] = await Promise.all([deliveriesOf(event.id), deliveriesOf(result.event?.id)]);
      setComparison({ result, after, original, replay });
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
    }
  };

  const refresh = async (): Promise<void> => {
    if (comparison === null) return;
    try {
      const [original, replay] = await Promise.all([
        deliveriesOf(event.id),
        deliveriesOf(comparison.result.event?.id),
      ]);
      setComparison({ ...comparison, original, replay });
    } catch (caught) {
      setError(describeError(caught));
    }
  };

  return (
    <div class="replay">
      <form
        class="filters"
        onSubmit={(submitted) => {
          submitted.preventDefault();
          void run(false);
        }}
      >
        <label for="replay-target">Target</label>
        <select id="replay-target" value={target} onChange={(changed) => setTarget(changed.currentTarget.value as TargetKind)}>
          <option value="all">inbox and every subscription</option>
          <option value="inbox">inbox only</option>
        </select>
        <label for="replay-patch">Data patch (JSON Merge Patch)</label>
        <textarea id="replay-patch" rows={3} cols={50} value={patch} onInput={(input) => setPatch(input.currentTarget.value)} />
        <button type="button" disabled={busy} onClick={() => void run(true)}>
          Preview (dry run)
        </button>
        <button type="submit" disabled={busy}>
          Replay
        </button>
      </form>
      <ErrorLine error={error} />
      {comparison !== null ? <ComparisonView event={event} comparison={comparison} onRefresh={() => void refresh()} /> : null}
    </div>
  );
}

function ComparisonView(props: { event: TriggersEvent; comparison: Comparison; onRefresh: () => void }): JSX.Element {
  const { event, comparison } = props;
  const { result } = comparison;
  const changes = diff(event.data, comparison.after);
  return (
    <section aria-label="Comparison">
      <h3>
        {result.dry_run ? "Dry run: nothing was stored or sent" : "Replayed as "}
        {result.event !== null ? <Link to={`/events/${encodeURIComponent(result.event.id)}`}>{result.event.id}</Link> : null}
      </h3>
      <div class="split">
        <div>
          <h4>Original</h4>
          <Code text={pretty(event.data)} label="Original data" />
        </div>
        <div>
          <h4>Replay</h4>
          <Code text={pretty(comparison.after)} label="Replay data" />
        </div>
      </div>
      <h4>Changed fields</h4>
      {changes.length === 0 ? (
        <p class="muted">none</p>
      ) : (
        <table class="rows" aria-label="Changed fields">
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Change</th>
              <th scope="col">Original</th>
              <th scope="col">Replay</th>
            </tr>
          </thead>
          <tbody>
            {changes.map((change) => (
              <tr key={change.path}>
                <td>
                  <code>{change.path === "" ? "(whole payload)" : change.path}</code>
                </td>
                <td>{change.kind}</td>
                <td>{change.kind === "added" ? "" : preview(change.before)}</td>
                <td>{change.kind === "removed" ? "" : preview(change.after)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h4>Outcome per target</h4>
      <table class="rows" aria-label="Replay outcomes">
        <thead>
          <tr>
            <th scope="col">Target</th>
            <th scope="col">Subscription</th>
            <th scope="col">Decision</th>
            <th scope="col">Delivery</th>
          </tr>
        </thead>
        <tbody>
          {result.outcomes.map((outcome, index) => (
            <tr key={`${outcome.target}-${outcome.subscription_id ?? index}`}>
              <td>{outcome.target}</td>
              <td>{outcome.subscription_id ?? ""}</td>
              <td>{outcome.decision}</td>
              <td>
                {outcome.delivery_id !== null ? (
                  <Link to={`/deliveries/${encodeURIComponent(outcome.delivery_id)}`}>{outcome.delivery_id}</Link>
                ) : (
                  ""
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {result.dry_run ? null : (
        <>
          <h4>
            Deliveries side by side{" "}
            <button type="button" onClick={props.onRefresh}>
              Refresh
            </button>
          </h4>
          <div class="split">
            <DeliveryOutcomes label="Original deliveries" deliveries={comparison.original} />
            <DeliveryOutcomes label="Replay deliveries" deliveries={comparison.replay} />
          </div>
        </>
      )}
    </section>
  );
}

function DeliveryOutcomes(props: { label: string; deliveries: readonly Delivery[] }): JSX.Element {
  return (
    <table class="rows" aria-label={props.label}>
      <caption>{props.label}</caption>
      <thead>
        <tr>
          <th scope="col">Subscription</th>
          <th scope="col">Status</th>
          <th scope="col">Code</th>
          <th scope="col">Latency</th>
        </tr>
      </thead>
      <tbody>
        {props.deliveries.map((delivery) => {
          const last = delivery.attempts[delivery.attempts.length - 1];
          return (
            <tr key={delivery.id}>
              <td>{delivery.subscription_id}</td>
              <td>{delivery.status}</td>
              <td>{delivery.last_response_status ?? ""}</td>
              <td>{last !== undefined ? `${last.duration_ms} ms` : ""}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
