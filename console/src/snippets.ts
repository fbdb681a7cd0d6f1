/**
 * Copy-as-curl and copy-as-SDK-call: the request that would ingest this event again, as a shell command and as a
 * call in each of the project's SDKs (Python, TypeScript, Go). The key never appears: curl reads
 * `$TRIGGERS_API_KEY`, the SDK clients read the same variable by default.
 */
import type { Event as TriggersEvent } from "@zapier-triggers/sdk";

/** A POSIX shell single-quoted word: nothing inside is expanded. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The ingest request's fields, by their wire names, for the members the event has. */
function fields(event: TriggersEvent): [string, unknown][] {
  const present: [string, unknown][] = [
    ["type", event.type],
    ["source", event.source],
  ];
  if (event.data !== undefined && event.data !== null) present.push(["data", event.data]);
  if (event.subject !== null) present.push(["subject", event.subject]);
  if (event.correlation_id !== null) present.push(["correlation_id", event.correlation_id]);
  if (event.causation_id !== null) present.push(["causation_id", event.causation_id]);
  if (event.dataschema !== null) present.push(["dataschema", event.dataschema]);
  if (Object.keys(event.metadata).length > 0) present.push(["metadata", event.metadata]);
  return present;
}

export function curlForEvent(event: TriggersEvent, apiBase: string): string {
  return [
    `curl -sS -X POST ${shellQuote(`${apiBase}/events`)}`,
    `  -H "Authorization: Bearer $TRIGGERS_API_KEY"`,
    `  -H 'Content-Type: application/json'`,
    `  --data-raw ${shellQuote(JSON.stringify(Object.fromEntries(fields(event))))}`,
  ].join(" \\\n");
}

/** A JSON value as a Python literal (JSON's string escapes are valid Python escapes). */
export function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number" || typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(", ")}]`;
  const members = Object.entries(value as Record<string, unknown>);
  return `{${members.map(([name, member]) => `${JSON.stringify(name)}: ${pythonLiteral(member)}`).join(", ")}}`;
}

export function pythonForEvent(event: TriggersEvent): string {
  const args = fields(event).map(([name, value]) => `    ${name}=${pythonLiteral(value)},`);
  return [
    "from zapier_triggers import SyncTriggersClient",
    "",
    "client = SyncTriggersClient()  # TRIGGERS_API_KEY / TRIGGERS_BASE_URL",
    "event = client.events.create(",
    ...args,
    ")",
  ].join("\n");
}

const TS_NAMES: Record<string, string> = { correlation_id: "correlationId", causation_id: "causationId" };

export function typescriptForEvent(event: TriggersEvent): string {
  const args = fields(event).map(([name, value]) => `  ${TS_NAMES[name] ?? name}: ${JSON.stringify(value)},`);
  return [
    'import { TriggersClient } from "@zapier-triggers/sdk";',
    "",
    "const client = new TriggersClient(); // TRIGGERS_API_KEY / TRIGGERS_BASE_URL",
    "const event = await client.events.create({",
    ...args,
    "});",
  ].join("\n");
}

const GO_NAMES: Record<string, string> = {
  type: "Type",
  source: "Source",
  data: "Data",
  subject: "Subject",
  correlation_id: "CorrelationID",
  causation_id: "CausationID",
  dataschema: "Dataschema",
  metadata: "Metadata",
};

function goValue(name: string, value: unknown): string {
  if (name === "data") return `json.RawMessage(${JSON.stringify(JSON.stringify(value))})`;
  if (name === "metadata") {
    const pairs = Object.entries(value as Record<string, string>);
    return `map[string]string{${pairs.map(([key, text]) => `${JSON.stringify(key)}: ${JSON.stringify(text)}`).join(", ")}}`;
  }
  const literal = JSON.stringify(value);
  return name === "type" || name === "source" ? literal : `triggers.Ptr(${literal})`;
}

export function goForEvent(event: TriggersEvent): string {
  const args = fields(event).map(([name, value]) => `\t${GO_NAMES[name] ?? name}: ${goValue(name, value)},`);
  return [
    "client := triggers.NewClient() // TRIGGERS_API_KEY / TRIGGERS_BASE_URL",
    "event, err := client.Events.Create(ctx, triggers.EventCreateParams{",
    ...args,
    "})",
  ].join("\n");
}

/**
 * The event as a CloudEvents 1.0 structured-mode JSON object: its CloudEvents `id` is the producer's
 * (`external_id`) when it gave one, extension attributes sit at the top level, and the server's own members
 * (sequence, status, correlation) are left out.
 */
export function cloudEventOf(event: TriggersEvent): Record<string, unknown> {
  const attributes: Record<string, unknown> = {
    specversion: event.specversion,
    id: event.external_id ?? event.id,
    source: event.source,
    type: event.type,
  };
  if (event.subject !== null) attributes["subject"] = event.subject;
  attributes["time"] = event.time;
  if (event.datacontenttype !== null) attributes["datacontenttype"] = event.datacontenttype;
  if (event.dataschema !== null) attributes["dataschema"] = event.dataschema;
  Object.assign(attributes, event.extensions);
  if (event.data_base64 !== null) attributes["data_base64"] = event.data_base64;
  else if (event.data !== undefined && event.data !== null) attributes["data"] = event.data;
  return attributes;
}
