/** The pull inbox: depth (from /stats), leased vs pending, and a peek at the next pending events (nothing leased). */
import type { Event as TriggersEvent } from "@zapier-triggers/sdk";
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

import { describeError, useClient } from "../api.js";
import { ErrorLine } from "../text.js";
import { EventTable } from "./events.js";

const PEEK = 50;

interface InboxView {
  depth: number;
  leased: number;
  peek: TriggersEvent[];
}

export function InboxPage(): JSX.Element {
  const client = useClient();
  const [view, setView] = useState<InboxView | null>(null);
  const [generation, setGeneration] = useState(0);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    const load = async (): Promise<void> => {
      const [stats, peek] = await Promise.all([client.ops.stats(), client.inbox.list({ limit: PEEK })]);
      let leased = 0;
      for await (const page of client.events.list({ status: "leased", limit: 200 }).pages()) leased += page.data.length;
      if (!stopped) setView({ depth: stats.inbox_depth, leased, peek: peek.data });
    };
    load().catch((caught: unknown) => {
      if (!stopped) setError(describeError(caught));
    });
    return () => {
      stopped = true;
    };
  }, [client, generation]);

  return (
    <section>
      <h1>Inbox</h1>
      <p>
        <button type="button" onClick={() => setGeneration((value) => value + 1)}>
          Refresh
        </button>
      </p>
      <ErrorLine error={error} />
      {view === null ? (
        <p class="muted">Loading…</p>
      ) : (
        <>
          <dl class="numbers" aria-label="Inbox depth">
            <div>
              <dt>Depth</dt>
              <dd>{view.depth}</dd>
            </div>
            <div>
              <dt>Pending</dt>
              <dd>{Math.max(view.depth - view.leased, 0)}</dd>
            </div>
            <div>
              <dt>Leased</dt>
              <dd>{view.leased}</dd>
            </div>
          </dl>
          <h2>Next pending events</h2>
          <EventTable events={view.peek} />
        </>
      )}
    </section>
  );
}
