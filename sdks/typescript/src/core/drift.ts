/**
 * Strict mode: find where a decoded response departs from the contract (unknown fields, unknown enum
 * values, unknown union variants). Lenient decoding keeps all of these, as a newer server must never
 * break an older SDK; a client built with `strict: true` fails on them instead, which is what tests want.
 */

/** What is checked of one schema (generated from the contract into src/generated/shapes.ts). */
export type Shape =
  | { ref: string }
  | { enum: string[] }
  | { array: Shape }
  | { map: Shape }
  | { object: Record<string, Shape | null> }
  | { oneOf: Record<string, string>; discriminator: string };

export type ShapeRegistry = Readonly<Record<string, Shape>>;

/** Every departure of `value` from the named schema, as `path: problem` strings (empty when none). */
export function findDrift(value: unknown, schema: string, registry: ShapeRegistry, path = "$"): string[] {
  const found: string[] = [];
  walk(value, { ref: schema }, registry, path, found);
  return found;
}

function walk(value: unknown, shape: Shape, registry: ShapeRegistry, path: string, found: string[]): void {
  if (value === null || value === undefined) return;
  if ("ref" in shape) {
    const target = own(registry, shape.ref);
    if (target !== undefined) walk(value, target, registry, path, found);
  } else if ("enum" in shape) {
    if (typeof value === "string" && !shape.enum.includes(value)) found.push(`${path}: unknown enum value ${JSON.stringify(value)}`);
  } else if ("array" in shape) {
    if (Array.isArray(value)) value.forEach((item, index) => walk(item, shape.array, registry, `${path}[${index}]`, found));
  } else if ("map" in shape) {
    if (isObject(value)) for (const [key, item] of Object.entries(value)) walk(item, shape.map, registry, `${path}.${key}`, found);
  } else if ("object" in shape) {
    if (!isObject(value)) return;
    for (const [key, item] of Object.entries(value)) {
      if (!Object.hasOwn(shape.object, key)) {
        found.push(`${path}.${key}: unknown field`);
        continue;
      }
      const property = own(shape.object, key);
      if (property) walk(item, property, registry, `${path}.${key}`, found);
    }
  } else if (isObject(value)) {
    const tag = value[shape.discriminator];
    const variant = typeof tag === "string" ? own(shape.oneOf, tag) : undefined;
    if (variant === undefined) found.push(`${path}.${shape.discriminator}: unknown variant ${JSON.stringify(tag)}`);
    else walk(value, { ref: variant }, registry, path, found);
  }
}

/** A member of a generated table; never one inherited from Object.prototype (`constructor`, `toString`). */
function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
