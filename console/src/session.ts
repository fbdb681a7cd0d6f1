/**
 * The signed-in API key: kept in sessionStorage (gone when the tab closes, never put in a URL) and shown
 * only masked.
 */
const STORAGE_KEY = "triggers.console.api-key";
const VISIBLE_TAIL = 4;

export function loadKey(): string | null {
  const key = sessionStorage.getItem(STORAGE_KEY);
  return key === null || key === "" ? null : key;
}

export function saveKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function clearKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** `••••••••3f9a`: the last four characters only, and none of a key too short to spare them. */
export function maskKey(key: string): string {
  const tail = key.length > VISIBLE_TAIL * 3 ? key.slice(-VISIBLE_TAIL) : "";
  return `${"•".repeat(8)}${tail}`;
}
