/**
 * Schema evolution docs: what changed, field by field, from each version of a type's schema to the next — a port of
 * the Python CLI's `python-sdk/src/zapier_triggers/cli/evolution.py` (`triggers schemas docs TYPE`), kept to the
 * same rules and the same words, so the schemas page and the Markdown a repository commits say the same thing
 * (a browser test compares this module's Markdown with the Python one for the same versions).
 *
 * The fields of a JSON Schema are its `properties`, walked recursively (array items as `field[]`); for each one
 * the docs record its type, whether it is required, its enum/const values and its format, and name what changed
 * between consecutive versions.
 */

export interface Field {
  type: string;
  required: boolean;
  /** enum or const values as JSON text (Python's `json.dumps`), or null when unrestricted */
  values: readonly string[] | null;
  format: string | null;
}

export interface Change {
  field: string;
  what: string;
}

export interface EvolutionVersion {
  number: number;
  /** as the CLI prints it: Python's `datetime.isoformat()` of the version's `created_at` */
  createdAt: string;
  schema: unknown;
}

type JsonObject = Record<string, unknown>;

function mapping(value: unknown): JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
}

/** A JSON value as Python's `json.dumps` writes it by default: `", "` and `": "` separators, non-ASCII escaped. */
export function pythonJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "NaN";
    if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
    return JSON.stringify(value);
  }
  if (typeof value === "string") {
    return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
  }
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(", ")}]`;
  return `{${Object.entries(value as JsonObject)
    .map(([key, member]) => `${pythonJson(key)}: ${pythonJson(member)}`)
    .join(", ")}}`;
}

function typeOf(schema: JsonObject): string {
  const declared = schema["type"];
  if (Array.isArray(declared)) return declared.map((name) => String(name)).join(" | ");
  if (typeof declared === "string") return declared;
  return "properties" in schema ? "object" : "any";
}

function valuesOf(schema: JsonObject): string[] | null {
  if ("const" in schema) return [pythonJson(schema["const"])];
  const listed = schema["enum"];
  return Array.isArray(listed) ? listed.map(pythonJson) : null;
}

/** Every field of `schema`, by dotted path (`customer.email`, `items[].sku`), in the schema's order. */
export function fields(schema: unknown, prefix = ""): Map<string, Field> {
  const root = mapping(schema);
  const found = new Map<string, Field>();
  const requiredList = root["required"];
  const required = new Set(Array.isArray(requiredList) ? requiredList.map((name) => String(name)) : []);
  for (const [name, raw] of Object.entries(mapping(root["properties"]))) {
    const child = mapping(raw);
    const path = `${prefix}${name}`;
    const format = child["format"];
    found.set(path, {
      type: typeOf(child),
      required: required.has(name),
      values: valuesOf(child),
      format: typeof format === "string" ? format : null,
    });
    for (const [nested, field] of fields(child, `${path}.`)) found.set(nested, field);
    const items = mapping(child["items"]);
    if (Object.keys(items).length > 0) {
      for (const [nested, field] of fields(items, `${path}[].`)) found.set(nested, field);
    }
  }
  return found;
}

export function describe(field: Field): string {
  const parts = [field.required ? "required" : "optional", `\`${field.type}\``];
  if (field.format) parts.push(`format \`${field.format}\``);
  if (field.values !== null) parts.push(`one of ${field.values.map((value) => `\`${value}\``).join(", ")}`);
  return parts.join(", ");
}

function sameValues(a: readonly string[] | null, b: readonly string[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

function valuesChange(was: readonly string[] | null, now: readonly string[] | null): string {
  if (was === null) return `now restricted to ${(now ?? []).map((value) => `\`${value}\``).join(", ")}`;
  if (now === null) return "no longer restricted to listed values";
  const added = now.filter((value) => !was.includes(value));
  const removed = was.filter((value) => !now.includes(value));
  const parts = [
    ...(added.length > 0 ? [`added ${added.map((value) => `\`${value}\``).join(", ")}`] : []),
    ...(removed.length > 0 ? [`removed ${removed.map((value) => `\`${value}\``).join(", ")}`] : []),
  ];
  return `values: ${parts.join("; ")}`;
}

/** Python's `sorted()` order of str: by code point (not UTF-16 unit, not locale). */
function byCodePoint(a: string, b: string): number {
  const left = Array.from(a, (ch) => ch.codePointAt(0) ?? 0);
  const right = Array.from(b, (ch) => ch.codePointAt(0) ?? 0);
  for (let index = 0; index < Math.min(left.length, right.length); index += 1) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}

/** What changed from `old` to `next`, field by field, in sorted field order. */
export function changes(old: unknown, next: unknown): Change[] {
  const before = fields(old);
  const after = fields(next);
  const found: Change[] = [];
  for (const path of [...new Set([...before.keys(), ...after.keys()])].sort(byCodePoint)) {
    const was = before.get(path);
    const now = after.get(path);
    if (was === undefined && now !== undefined) {
      found.push({ field: path, what: `added: ${describe(now)}` });
    } else if (now === undefined && was !== undefined) {
      found.push({ field: path, what: "removed" });
    } else if (was !== undefined && now !== undefined) {
      if (was.type !== now.type) found.push({ field: path, what: `type \`${was.type}\` → \`${now.type}\`` });
      if (was.required !== now.required) {
        found.push({ field: path, what: now.required ? "now required" : "no longer required" });
      }
      if (!sameValues(was.values, now.values)) found.push({ field: path, what: valuesChange(was.values, now.values) });
      if (was.format !== now.format) {
        found.push({ field: path, what: `format \`${was.format ?? "none"}\` → \`${now.format ?? "none"}\`` });
      }
    }
  }
  return found;
}

/** An RFC 3339 time as Python's `datetime.isoformat()` writes it (`+00:00` for `Z`, no all-zero fraction). */
export function pythonIsoformat(time: string): string {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(time);
  if (match === null) return time;
  const [, base = "", fraction = "", zone = ""] = match;
  const micros = fraction.padEnd(6, "0").slice(0, 6);
  return `${base}${/^0+$/.test(micros) ? "" : `.${micros}`}${zone === "Z" ? "+00:00" : zone}`;
}

export interface EvolutionSection {
  number: number;
  createdAt: string;
  /** for the first version, its fields described; for each later one, what changed against the one before */
  rows: Change[];
  first: boolean;
}

/** Version 1's fields, then each later version's changes against the one before, oldest first. */
export function evolution(versions: readonly EvolutionVersion[]): EvolutionSection[] {
  const ordered = [...versions].sort((a, b) => a.number - b.number);
  return ordered.map((version, index) => {
    const previous = index > 0 ? ordered[index - 1] : undefined;
    const rows =
      previous === undefined
        ? [...fields(version.schema)].map(([path, field]) => ({ field: path, what: describe(field) }))
        : changes(previous.schema, version.schema);
    return { number: version.number, createdAt: version.createdAt, rows, first: previous === undefined };
  });
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

function table(rows: readonly Change[]): string[] {
  return ["| field | change |", "| --- | --- |", ...rows.map((row) => `| \`${row.field}\` | ${cell(row.what)} |`)];
}

/** The evolution page as Markdown, exactly as `triggers schemas docs TYPE` writes it. */
export function markdown(eventType: string, versions: readonly EvolutionVersion[]): string {
  const lines = [`# \`${eventType}\`: schema evolution`, ""];
  const sections = evolution(versions);
  if (sections.length === 0) return [...lines, "No schema versions are registered.", ""].join("\n");
  for (const section of sections) {
    if (!section.first) lines.push("");
    lines.push(`## Version ${section.number} (${section.createdAt})`, "");
    lines.push(...(section.rows.length > 0 || section.first ? table(section.rows) : ["No field changes."]));
  }
  return `${lines.join("\n")}\n`;
}
