/**
 * Everything from the API that a user or a sender controls (payloads, headers, ids) is rendered through
 * these as text nodes: never as HTML, never as an attribute that loads or runs anything.
 */
import type { JSX } from "preact";
import { useState } from "preact/hooks";

export function pretty(value: unknown): string {
  return value === undefined ? "" : JSON.stringify(value, null, 2);
}

/** One line of a value, cut at `limit` characters (for table cells). */
export function preview(value: unknown, limit = 120): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? "");
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

export function Code(props: { text: string; label?: string }): JSX.Element {
  return (
    <pre class="code" aria-label={props.label}>
      {props.text}
    </pre>
  );
}

export function Pairs(props: { values: Record<string, unknown>; label: string }): JSX.Element {
  const entries = Object.entries(props.values);
  if (entries.length === 0) return <p class="muted">none</p>;
  return (
    <table class="pairs" aria-label={props.label}>
      <tbody>
        {entries.map(([name, value]) => (
          <tr key={name}>
            <th scope="row">{name}</th>
            <td>{typeof value === "string" ? value : preview(value, 10_000)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A button that copies `text` to the clipboard and says so. */
export function CopyButton(props: { text: string; label: string }): JSX.Element {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const copy = (): void => {
    navigator.clipboard.writeText(props.text).then(
      () => setState("copied"),
      () => setState("failed"),
    );
  };
  return (
    <button type="button" onClick={copy}>
      {state === "copied" ? "Copied" : state === "failed" ? "Copy failed: select the text" : props.label}
    </button>
  );
}

export function ErrorLine(props: { error: string | null }): JSX.Element | null {
  return props.error === null ? null : (
    <p class="error" role="alert">
      {props.error}
    </p>
  );
}

export function formatTime(iso: string | null): string {
  if (iso === null) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().replace("T", " ").replace("Z", "");
}
