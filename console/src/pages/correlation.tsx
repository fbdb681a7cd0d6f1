/**
 * The causation chain of an event's correlation: a tree from each root, the event on show highlighted; then the
 * workflow as a saga (the server's `saga`): every event a step in causal order, done, pending or failed.
 */
import type { CausationNode, Correlation, Saga, Event as TriggersEvent } from "@zapier-triggers/sdk";
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

import { describeError, useClient } from "../api.js";
import { Link } from "../router.js";
import { ErrorLine, formatTime } from "../text.js";

export function CorrelationTree(props: { event: TriggersEvent }): JSX.Element {
  const client = useClient();
  const correlationId = props.event.correlation_id;
  const [correlation, setCorrelation] = useState<Correlation | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (correlationId === null) return undefined;
    let stopped = false;
    client.events.getCorrelation(correlationId).then(
      (found) => {
        if (!stopped) setCorrelation(found);
      },
      (caught: unknown) => {
        if (!stopped) setError(describeError(caught));
      },
    );
    return () => {
      stopped = true;
    };
  }, [client, correlationId]);

  if (correlationId === null) return <p class="muted">No correlation id: this event is not part of a workflow.</p>;
  if (correlation === null) return error === null ? <p class="muted">Loading…</p> : <ErrorLine error={error} />;
  const byId = new Map(correlation.events.map((event) => [event.id, event]));
  return (
    <>
      <nav aria-label="Causation chain">
        <p class="muted">
        {correlation.events.length} events with correlation id <code>{correlationId}</code>
      </p>
      <ul class="tree">
        {correlation.roots.map((root) => (
          <Node key={root.event_id} node={root} byId={byId} current={props.event.id} />
        ))}
      </ul>
      </nav>
      <SagaSteps saga={correlation.saga} current={props.event.id} />
    </>
  );
}

const STEP_LABELS: Record<string, string> = { done: "done", pending: "pending", failed: "failed" };
const SAGA_LABELS: Record<string, string> = { in_progress: "in progress", completed: "completed", failed: "failed" };

function SagaSteps(props: { saga: Saga; current: string }): JSX.Element {
  const { saga } = props;
  return (
    <section aria-labelledby="saga-title">
      <h3 id="saga-title">Saga steps</h3>
      <p id="saga-summary">
        Saga {SAGA_LABELS[saga.state] ?? saga.state}: {saga.done} done, {saga.pending} pending, {saga.failed} failed
      </p>
      <table class="rows" aria-label="Saga steps">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Step</th>
            <th scope="col">State</th>
            <th scope="col">Inbox</th>
            <th scope="col">Deliveries (succeeded / pending / failed)</th>
          </tr>
        </thead>
        <tbody>
          {saga.steps.map((step) => (
            <tr key={step.event_id} aria-current={step.event_id === props.current ? "true" : undefined}>
              <td>{step.position}</td>
              <td>
                {step.event_id === props.current ? (
                  <strong>{step.type}</strong>
                ) : (
                  <Link to={`/events/${encodeURIComponent(step.event_id)}`}>{step.type}</Link>
                )}
              </td>
              <td class={`step-${step.state}`}>{STEP_LABELS[step.state] ?? step.state}</td>
              <td>{step.inbox_status}</td>
              <td>
                {step.deliveries_succeeded} / {step.deliveries_pending} / {step.deliveries_failed}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Node(props: { node: CausationNode; byId: Map<string, TriggersEvent>; current: string }): JSX.Element {
  const { node } = props;
  const event = props.byId.get(node.event_id);
  const here = node.event_id === props.current;
  return (
    <li>
      <span class={here ? "here" : undefined} aria-current={here ? "true" : undefined}>
        {here ? (
          <strong>{node.type}</strong>
        ) : (
          <Link to={`/events/${encodeURIComponent(node.event_id)}`}>{node.type}</Link>
        )}{" "}
        <code>{node.event_id}</code> {event !== undefined ? <span class="muted">{formatTime(event.time)}</span> : null}
      </span>
      {node.children.length > 0 ? (
        <ul>
          {node.children.map((child) => (
            <Node key={child.event_id} node={child} byId={props.byId} current={props.current} />
          ))}
        </ul>
      ) : null}
    </li>
  );
}
