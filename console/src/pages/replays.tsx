/**
 * Time-range replays: copy every stored event of a time range (optionally only some types, with a data patch)
 * to the inbox and/or the subscriptions, or count them with a dry run; the jobs with their progress, cancel.
 */
import type { Replay } from "@zapier-triggers/sdk";
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

import { describeError, useClient } from "../api.js";
import { ErrorLine, formatTime } from "../text.js";

const POLL_MS = 1000;
const ACTIVE: ReadonlySet<string> = new Set(["STARTING", "RUNNING", "CANCELLING"]);

/** A `datetime-local` value (the browser's local time) as RFC 3339 UTC. */
function instant(value: string): string | null {
  const date = new Date(value);
  return value.trim() === "" || Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export function ReplaysPage(): JSX.Element {
  const client = useClient();
  const [jobs, setJobs] = useState<Replay[] | null>(null);
  const [generation, setGeneration] = useState(0);
  const [name, setName] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [types, setTypes] = useState("");
  const [target, setTarget] = useState<"all" | "inbox">("inbox");
  const [patch, setPatch] = useState("");
  const [dryRun, setDryRun] = useState(true);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const load = async (): Promise<void> => {
      const page = await client.replays.list({ limit: 50 });
      if (stopped) return;
      setJobs(page.data);
      // While a job runs, follow its progress.
      if (page.data.some((job) => ACTIVE.has(job.status))) {
        timer = setTimeout(() => setGeneration((value) => value + 1), POLL_MS);
      }
    };
    load().catch((caught: unknown) => {
      if (!stopped) setError(describeError(caught));
    });
    return () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
    };
  }, [client, generation]);

  const create = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    const start = instant(from);
    const end = instant(to);
    if (start === null || end === null) {
      setError("Give the start and the end of the range.");
      return;
    }
    let dataPatch: Record<string, unknown> | undefined;
    if (patch.trim() !== "") {
      try {
        dataPatch = JSON.parse(patch) as Record<string, unknown>;
      } catch {
        setError("The data patch is not valid JSON.");
        return;
      }
    }
    const eventTypes = types
      .split(",")
      .map((glob) => glob.trim())
      .filter((glob) => glob !== "");
    try {
      await client.replays.create({
        name: name.trim() === "" ? undefined : name.trim(),
        from: start,
        to: end,
        eventTypes: eventTypes.length === 0 ? undefined : eventTypes,
        target: { kind: target },
        dataPatch,
        dryRun,
      });
      setGeneration((value) => value + 1);
    } catch (caught) {
      setError(describeError(caught));
    }
  };

  const cancel = async (id: string): Promise<void> => {
    try {
      await client.replays.cancel(id);
      setGeneration((value) => value + 1);
    } catch (caught) {
      setError(describeError(caught));
    }
  };

  return (
    <section>
      <h1>Replays</h1>
      <form class="filters" onSubmit={(event) => void create(event)}>
        <label for="replay-name">Name</label>
        <input id="replay-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <label for="replay-from">From</label>
        <input id="replay-from" type="datetime-local" step={1} value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
        <label for="replay-to">To</label>
        <input id="replay-to" type="datetime-local" step={1} value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        <label for="replay-types">Type globs (comma-separated)</label>
        <input id="replay-types" value={types} onInput={(e) => setTypes(e.currentTarget.value)} />
        <label for="replay-range-target">Target</label>
        <select id="replay-range-target" value={target} onChange={(e) => setTarget(e.currentTarget.value as "all" | "inbox")}>
          <option value="inbox">inbox only</option>
          <option value="all">inbox and every subscription</option>
        </select>
        <label for="replay-range-patch">Data patch (JSON Merge Patch, optional)</label>
        <input id="replay-range-patch" value={patch} onInput={(e) => setPatch(e.currentTarget.value)} />
        <label>
          <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.currentTarget.checked)} /> Dry run (count only)
        </label>
        <button type="submit">Start replay</button>
      </form>
      <ErrorLine error={error} />
      {jobs === null ? (
        error === null ? <p class="muted">Loading…</p> : null
      ) : jobs.length === 0 ? (
        <p class="muted">No replays yet.</p>
      ) : (
        <table class="rows" aria-label="Replay jobs">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Range</th>
              <th scope="col">Types</th>
              <th scope="col">Matched</th>
              <th scope="col">Processed</th>
              <th scope="col">Delivered</th>
              <th scope="col">Filtered</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((job) => (
              <tr key={job.id} data-replay-id={job.id}>
                <td>
                  <code>{job.id}</code>
                  {job.dry_run ? " (dry run)" : ""}
                </td>
                <td>{job.name ?? ""}</td>
                <td>
                  {job.status}
                  {job.error !== null ? `: ${job.error}` : ""}
                </td>
                <td>
                  {formatTime(job.from)} – {formatTime(job.to)}
                </td>
                <td>{job.event_types.length === 0 ? "every type" : job.event_types.join(", ")}</td>
                <td>{job.progress.matched}</td>
                <td>{job.progress.processed}</td>
                <td>{job.progress.delivered}</td>
                <td>{job.progress.filtered}</td>
                <td>
                  {job.status === "STARTING" || job.status === "RUNNING" ? (
                    <button type="button" onClick={() => void cancel(job.id)}>
                      Cancel
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
