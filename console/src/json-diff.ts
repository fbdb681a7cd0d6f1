/** JSON Merge Patch (RFC 7386), as the server applies `data_patch`, and a field-level diff for the comparison view. */

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function applyMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete result[name];
    else result[name] = applyMergePatch(result[name], value);
  }
  return result;
}

export interface Change {
  /** JSON Pointer of the changed member ("" for the whole value). */
  path: string;
  kind: "added" | "removed" | "changed";
  before?: Json;
  after?: Json;
}

function pointerPart(name: string): string {
  return name.replaceAll("~", "~0").replaceAll("/", "~1");
}

/** Members that differ between `before` and `after`, objects compared member by member, anything else whole. */
export function diff(before: Json, after: Json, path = ""): Change[] {
  if (isObject(before) && isObject(after)) {
    const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return names.flatMap((name) => {
      const at = `${path}/${pointerPart(name)}`;
      if (!(name in after)) return [{ path: at, kind: "removed" as const, before: before[name] }];
      if (!(name in before)) return [{ path: at, kind: "added" as const, after: after[name] }];
      return diff(before[name], after[name], at);
    });
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path, kind: "changed", before, after }];
}
