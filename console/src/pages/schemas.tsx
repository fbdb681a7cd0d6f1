/**
 * The schema registry: subjects (one per event type), their versions, a field-level diff between any two
 * versions, the evolution docs (field-level changes per version, as `triggers schemas docs` writes them, see
 * ../evolution.ts), the compatibility mode, and "check a candidate schema" against it.
 */
import type { CompatibilityResult, SchemaSubject, SchemaVersion } from "@zapier-triggers/sdk";
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

import { describeError, useClient } from "../api.js";
import { type EvolutionVersion, evolution, markdown, pythonIsoformat } from "../evolution.js";
import { diff } from "../json-diff.js";
import { Link } from "../router.js";
import { Code, CopyButton, ErrorLine, pretty, preview } from "../text.js";

const MODES = [
  "BACKWARD",
  "BACKWARD_TRANSITIVE",
  "FORWARD",
  "FORWARD_TRANSITIVE",
  "FULL",
  "FULL_TRANSITIVE",
  "NONE",
] as const;

export function SchemasPage(): JSX.Element {
  const client = useClient();
  const [subjects, setSubjects] = useState<SchemaSubject[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    const load = async (): Promise<void> => {
      const all: SchemaSubject[] = [];
      for await (const subject of client.schemas.list({ limit: 100 })) all.push(subject);
      if (!stopped) setSubjects(all);
    };
    load().catch((caught: unknown) => {
      if (!stopped) setError(describeError(caught));
    });
    return () => {
      stopped = true;
    };
  }, [client]);

  return (
    <section>
      <h1>Schemas</h1>
      <ErrorLine error={error} />
      {subjects === null ? (
        error === null ? <p class="muted">Loading…</p> : null
      ) : subjects.length === 0 ? (
        <p class="muted">No schemas registered.</p>
      ) : (
        <table class="rows" aria-label="Schema subjects">
          <thead>
            <tr>
              <th scope="col">Event type</th>
              <th scope="col">Latest version</th>
              <th scope="col">Versions</th>
              <th scope="col">Compatibility</th>
            </tr>
          </thead>
          <tbody>
            {subjects.map((subject) => (
              <tr key={subject.event_type}>
                <td>
                  <Link to={`/schemas/${encodeURIComponent(subject.event_type)}`}>{subject.event_type}</Link>
                </td>
                <td>{subject.latest_version}</td>
                <td>{subject.versions}</td>
                <td>{subject.compatibility}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function SchemaPage(props: { eventType: string }): JSX.Element {
  const client = useClient();
  const { eventType } = props;
  const [versions, setVersions] = useState<SchemaVersion[] | null>(null);
  const [mode, setMode] = useState<string>("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [candidate, setCandidate] = useState("");
  const [check, setCheck] = useState<CompatibilityResult | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    const load = async (): Promise<void> => {
      const all: SchemaVersion[] = [];
      for await (const version of client.schemas.listVersions(eventType, { limit: 100 })) all.push(version);
      const config = await client.schemas.getConfig(eventType);
      if (stopped) return;
      all.sort((a, b) => a.version - b.version);
      setVersions(all);
      setMode(config.compatibility);
      const last = all[all.length - 1];
      const previous = all[all.length - 2] ?? last;
      setFrom(String(previous?.version ?? ""));
      setTo(String(last?.version ?? ""));
      if (last !== undefined) setCandidate(pretty(last.json_schema));
    };
    load().catch((caught: unknown) => {
      if (!stopped) setError(describeError(caught));
    });
    return () => {
      stopped = true;
    };
  }, [client, eventType]);

  const saveMode = async (next: string): Promise<void> => {
    setError(null);
    try {
      const saved = await client.schemas.updateConfig(eventType, { compatibility: next });
      setMode(saved.compatibility);
      setNotice(`Compatibility of ${eventType} is now ${saved.compatibility}.`);
    } catch (caught) {
      setError(describeError(caught));
    }
  };

  const runCheck = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    setCheck(null);
    let jsonSchema: Record<string, unknown>;
    try {
      jsonSchema = JSON.parse(candidate) as Record<string, unknown>;
    } catch {
      setError("The candidate schema is not valid JSON.");
      return;
    }
    try {
      setCheck(await client.schemas.checkCompatibility(eventType, { jsonSchema }));
    } catch (caught) {
      setError(describeError(caught));
    }
  };

  const byVersion = new Map((versions ?? []).map((version) => [String(version.version), version]));
  const left = byVersion.get(from);
  const right = byVersion.get(to);
  const changes = left !== undefined && right !== undefined ? diff(left.json_schema, right.json_schema) : [];

  return (
    <section>
      <h1>
        Schema <code>{eventType}</code>
      </h1>
      <p>
        <Link to="/schemas">← Schemas</Link>
      </p>
      <ErrorLine error={error} />
      {notice !== null ? (
        <p class="summary" role="status">
          {notice}
        </p>
      ) : null}
      {versions === null ? (
        error === null ? <p class="muted">Loading…</p> : null
      ) : (
        <>
          <p class="filters">
            <label for="schema-mode">Compatibility mode</label>
            <select id="schema-mode" value={mode} onChange={(event) => void saveMode(event.currentTarget.value)}>
              {MODES.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </p>
          <h2>Diff between versions</h2>
          <p class="filters">
            <label for="diff-from">From version</label>
            <select id="diff-from" value={from} onChange={(event) => setFrom(event.currentTarget.value)}>
              {versions.map((version) => (
                <option key={version.version} value={String(version.version)}>
                  {version.version}
                </option>
              ))}
            </select>
            <label for="diff-to">To version</label>
            <select id="diff-to" value={to} onChange={(event) => setTo(event.currentTarget.value)}>
              {versions.map((version) => (
                <option key={version.version} value={String(version.version)}>
                  {version.version}
                </option>
              ))}
            </select>
          </p>
          {changes.length === 0 ? (
            <p class="muted">No differences.</p>
          ) : (
            <table class="rows" aria-label="Schema changes">
              <thead>
                <tr>
                  <th scope="col">Path</th>
                  <th scope="col">Change</th>
                  <th scope="col">From</th>
                  <th scope="col">To</th>
                </tr>
              </thead>
              <tbody>
                {changes.map((change) => (
                  <tr key={change.path}>
                    <td>
                      <code>{change.path === "" ? "(whole schema)" : change.path}</code>
                    </td>
                    <td>{change.kind}</td>
                    <td>{change.kind === "added" ? "" : preview(change.before)}</td>
                    <td>{change.kind === "removed" ? "" : preview(change.after)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <Evolution eventType={eventType} versions={versions} />
          <h2>Versions</h2>
          {versions.map((version) => (
            <details key={version.version}>
              <summary>
                Version {version.version} <code>{version.fingerprint}</code>
              </summary>
              <Code text={pretty(version.json_schema)} label={`Version ${version.version}`} />
            </details>
          ))}
          <h2>Check a candidate schema</h2>
          <form onSubmit={(event) => void runCheck(event)}>
            <label for="candidate">Candidate JSON Schema</label>
            <textarea
              id="candidate"
              rows={10}
              cols={80}
              value={candidate}
              onInput={(event) => setCandidate(event.currentTarget.value)}
            />
            <p>
              <button type="submit">Check compatibility</button>
            </p>
          </form>
          {check !== null ? (
            <div role="status" aria-label="Compatibility result">
              <p class="summary">
                {check.compatible ? "Compatible" : "Incompatible"} under {check.mode}
              </p>
              <ul>
                {check.incompatibilities.map((item, index) => (
                  <li key={`${item.path}-${index}`}>
                    <code>{item.path}</code> {item.kind}: {item.detail}
                  </li>
                ))}
              </ul>
            </div>
          ) : null}
        </>
      )}
    </section>
  );
}

/** Text with `code` spans (the evolution docs' Markdown backticks) as code elements; everything stays text. */
function Ticked(props: { text: string }): JSX.Element {
  return <>{props.text.split("`").map((part, index) => (index % 2 === 1 ? <code key={index}>{part}</code> : part))}</>;
}

function Evolution(props: { eventType: string; versions: readonly SchemaVersion[] }): JSX.Element {
  const input: EvolutionVersion[] = props.versions.map((version) => ({
    number: version.version,
    createdAt: pythonIsoformat(version.created_at),
    schema: version.json_schema,
  }));
  const sections = evolution(input);
  const text = markdown(props.eventType, input);
  return (
    <section aria-labelledby="evolution-title">
      <h2 id="evolution-title">Evolution</h2>
      <ol class="evolution" aria-label="Schema evolution">
        {sections.map((section) => (
          <li key={section.number}>
            <h3>
              Version {section.number} <span class="muted">({section.createdAt})</span>
            </h3>
            {section.rows.length === 0 && !section.first ? (
              <p>No field changes.</p>
            ) : (
              <table class="rows" aria-label={`Version ${section.number}: ${section.first ? "fields" : "changes"}`}>
                <thead>
                  <tr>
                    <th scope="col">Field</th>
                    <th scope="col">{section.first ? "Description" : "Change"}</th>
                  </tr>
                </thead>
                <tbody>
                  {section.rows.map((row) => (
                    <tr key={`${row.field} ${row.what}`}>
                      <td>
                        <code>{row.field}</code>
                      </td>
                      <td>
                        <Ticked text={row.what} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </li>
        ))}
      </ol>
      <details>
        <summary>Evolution as Markdown (what `triggers schemas docs {props.eventType}` writes)</summary>
        <Code text={text} label="Evolution Markdown" />
        <CopyButton text={text} label="Copy Markdown" />
      </details>
    </section>
  );
}
