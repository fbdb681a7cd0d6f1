/**
 * Dead letters: filter, page through, retry or dismiss one, and retry *everything matching the filter* in one
 * server-side call (POST /dlq/retry), not only the rows on screen.
 */
import type { CursorPage, DlqEntry, DlqListParams } from "@zapier-triggers/sdk";
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

import { describeError, useClient } from "../api.js";
import { Link } from "../router.js";
import { ErrorLine, formatTime } from "../text.js";

const PAGE = 50;
const DISMISS_CONCURRENCY = 4;
const ORIGINS = ["", "inbox", "delivery"] as const;
const REASONS = ["", "max_deliveries_exceeded", "retries_exhausted", "endpoint_gone"] as const;

interface Filter {
  eventType: string;
  subscriptionId: string;
  origin: string;
  reason: string;
}

const EMPTY: Filter = { eventType: "", subscriptionId: "", origin: "", reason: "" };

function params(filter: Filter): Omit<DlqListParams, "limit" | "cursor"> {
  const orUndefined = (value: string): string | undefined => (value.trim() === "" ? undefined : value.trim());
  return {
    eventType: orUndefined(filter.eventType),
    subscriptionId: orUndefined(filter.subscriptionId),
    origin: orUndefined(filter.origin),
    reason: orUndefined(filter.reason),
  };
}

export function DlqPage(): JSX.Element {
  const client = useClient();
  const [draft, setDraft] = useState<Filter>(EMPTY);
  const [filter, setFilter] = useState<Filter>(EMPTY);
  const [entries, setEntries] = useState<DlqEntry[] | null>(null);
  const [page, setPage] = useState<CursorPage<DlqEntry> | null>(null);
  const [generation, setGeneration] = useState(0);
  const [busy, setBusy] = useState(false);
  const [summary, setSummary] = useState<string | null>(null);
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    setEntries(null);
    client.dlq.list({ ...params(filter), limit: PAGE }).then(
      (first) => {
        if (stopped) return;
        setPage(first);
        setEntries(first.data);
      },
      (caught: unknown) => {
        if (!stopped) setError(describeError(caught));
      },
    );
    return () => {
      stopped = true;
    };
  }, [client, filter, generation]);

  const reload = (): void => setGeneration((value) => value + 1);

  const act = async (work: () => Promise<string>): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      setSummary(await work());
      reload();
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
    }
  };

  const retryAll = (): Promise<void> =>
    act(async () => {
      setProgress(null);
      const result = await client.dlq.retryAll(params(filter));
      const noun = result.retried === 1 ? "dead letter" : "dead letters";
      return `Retried ${result.retried} ${noun} matching the filter.`;
    });

  /** There is no bulk-dismiss endpoint: collect every matching id first (dismissing shifts the pages), then dismiss. */
  const dismissAll = (): Promise<void> =>
    act(async () => {
      const ids: string[] = [];
      for await (const entry of client.dlq.list({ ...params(filter), limit: 200 })) ids.push(entry.id);
      let done = 0;
      let failed = 0;
      setProgress({ done: 0, total: ids.length });
      const queue = [...ids];
      const worker = async (): Promise<void> => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
          try {
            await client.dlq.dismiss(id);
            done += 1;
          } catch {
            failed += 1;
          }
          setProgress({ done: done + failed, total: ids.length });
        }
      };
      await Promise.all(Array.from({ length: DISMISS_CONCURRENCY }, worker));
      const noun = done === 1 ? "dead letter" : "dead letters";
      return `Dismissed ${done} ${noun} matching the filter${failed > 0 ? `; ${failed} could not be dismissed` : ""}.`;
    });

  const loadMore = async (): Promise<void> => {
    if (page === null || !page.hasNextPage()) return;
    try {
      const next = await page.getNextPage();
      setPage(next);
      setEntries((previous) => [...(previous ?? []), ...next.data]);
    } catch (caught) {
      setError(describeError(caught));
    }
  };

  const field = (name: keyof Filter) => (event: { currentTarget: HTMLInputElement | HTMLSelectElement }) =>
    setDraft({ ...draft, [name]: event.currentTarget.value });

  return (
    <section>
      <h1>Dead letters</h1>
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          setSummary(null);
          setProgress(null);
          setFilter({ ...draft });
        }}
      >
        <label for="dlq-type">Event type glob</label>
        <input id="dlq-type" value={draft.eventType} onInput={field("eventType")} />
        <label for="dlq-subscription">Subscription id</label>
        <input id="dlq-subscription" value={draft.subscriptionId} onInput={field("subscriptionId")} />
        <label for="dlq-origin">Origin</label>
        <select id="dlq-origin" value={draft.origin} onChange={field("origin")}>
          {ORIGINS.map((origin) => (
            <option key={origin} value={origin}>
              {origin === "" ? "any" : origin}
            </option>
          ))}
        </select>
        <label for="dlq-reason">Reason</label>
        <select id="dlq-reason" value={draft.reason} onChange={field("reason")}>
          {REASONS.map((reason) => (
            <option key={reason} value={reason}>
              {reason === "" ? "any" : reason}
            </option>
          ))}
        </select>
        <button type="submit">Apply filter</button>
      </form>
      <p>
        <button type="button" disabled={busy} onClick={() => void retryAll()}>
          Retry all matching the filter
        </button>{" "}
        <button type="button" disabled={busy} onClick={() => void dismissAll()}>
          Dismiss all matching the filter
        </button>{" "}
        {progress !== null ? (
          <>
            <progress aria-label="Bulk progress" value={progress.done} max={Math.max(progress.total, 1)} />{" "}
            <span class="muted">
              {progress.done} of {progress.total}
            </span>
          </>
        ) : null}
      </p>
      {summary !== null ? (
        <p class="summary" role="status" aria-label="Result summary">
          {summary}
        </p>
      ) : null}
      <ErrorLine error={error} />
      {entries === null ? (
        <p class="muted">Loading…</p>
      ) : entries.length === 0 ? (
        <p class="muted">No dead letters match.</p>
      ) : (
        <table class="rows" aria-label="Dead letters">
          <thead>
            <tr>
              <th scope="col">Created</th>
              <th scope="col">Event type</th>
              <th scope="col">Event</th>
              <th scope="col">Origin</th>
              <th scope="col">Reason</th>
              <th scope="col">Subscription</th>
              <th scope="col">Attempts</th>
              <th scope="col">Detail</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id} data-entry-id={entry.id}>
                <td>{formatTime(entry.created_at)}</td>
                <td>{entry.event_type}</td>
                <td>
                  <Link to={`/events/${encodeURIComponent(entry.event_id)}`}>{entry.event_id}</Link>
                </td>
                <td>{entry.origin}</td>
                <td>{entry.reason}</td>
                <td>{entry.subscription_id ?? ""}</td>
                <td>{entry.attempts}</td>
                <td>{entry.detail ?? ""}</td>
                <td class="actions">
                  <button
                    type="button"
                    disabled={busy}
                    onClick={() =>
                      void act(async () => {
                        await client.dlq.retry(entry.id);
                        return `Retried ${entry.id}.`;
                      })
                    }
                  >
                    Retry
                  </button>
                  <button
                    type="button"
                    disabled={busy}
                    onClick={() =>
                      void act(async () => {
                        await client.dlq.dismiss(entry.id);
                        return `Dismissed ${entry.id}.`;
                      })
                    }
                  >
                    Dismiss
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page?.hasNextPage() ? (
        <button type="button" onClick={() => void loadMore()}>
          Load more
        </button>
      ) : null}
    </section>
  );
}
