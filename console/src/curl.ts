/** Copy-as-curl: the POST that would ingest this event again, with the key left as a shell variable. */
import type { Event as TriggersEvent } from "@zapier-triggers/sdk";

/** A POSIX shell single-quoted word: nothing inside is expanded. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

export function curlForEvent(event: TriggersEvent, apiBase: string): string {
  const body: Record<string, unknown> = { type: event.type, source: event.source };
  if (event.subject !== null) body["subject"] = event.subject;
  if (event.data !== undefined && event.data !== null) body["data"] = event.data;
  if (event.correlation_id !== null) body["correlation_id"] = event.correlation_id;
  if (event.causation_id !== null) body["causation_id"] = event.causation_id;
  if (event.dataschema !== null) body["dataschema"] = event.dataschema;
  if (Object.keys(event.metadata).length > 0) body["metadata"] = event.metadata;
  return [
    `curl -sS -X POST ${shellQuote(`${apiBase}/events`)}`,
    `  -H "Authorization: Bearer $TRIGGERS_API_KEY"`,
    `  -H 'Content-Type: application/json'`,
    `  --data-raw ${shellQuote(JSON.stringify(body))}`,
  ].join(" \\\n");
}
