/**
 * A WHATWG-conformant `text/event-stream` parser (HTML Living Standard §9.2.6, "Interpreting an event
 * stream"). Bytes in, events/comments/retry values out; tested against
 * ../shared/conformance/sse/parsing-cases.json. Kept free of I/O so it can be fed any chunking.
 */

/** A dispatched event. `type` is "message" when the block had no `event:` field. */
export interface SSEMessage {
  type: string;
  data: string;
  /** The last-event-ID in effect at dispatch ("" = none); it persists across events until changed. */
  id: string;
}

export interface SSEHandlers {
  onEvent(message: SSEMessage): void;
  /** A comment line (everything after the ':'), e.g. the server's `: ping` heartbeat. */
  onComment?(comment: string): void;
  /** A valid `retry:` field: the new reconnection time in milliseconds. */
  onRetry?(milliseconds: number): void;
}

const LF = 0x0a;
const CR = 0x0d;

export class SSEParser {
  readonly #handlers: SSEHandlers;
  // The decoder strips one leading BOM (the standard's rule) and joins multi-byte characters across chunks.
  readonly #decoder = new TextDecoder("utf-8");
  #pending = "";
  /** The previous chunk ended with CR, so an LF opening the next chunk belongs to that line break. */
  #skipLeadingLF = false;
  #data: string[] = [];
  #eventType = "";
  #lastEventId = "";

  /** `lastEventId` seeds the id buffer (browsers carry it across reconnections), so events without `id:` inherit it. */
  constructor(handlers: SSEHandlers, lastEventId = "") {
    this.#handlers = handlers;
    this.#lastEventId = lastEventId;
  }

  /** Feed the next bytes of the stream, split anywhere. */
  feed(chunk: Uint8Array): void {
    let text = this.#decoder.decode(chunk, { stream: true });
    if (this.#skipLeadingLF && text.length > 0) {
      if (text.charCodeAt(0) === LF) text = text.slice(1);
      this.#skipLeadingLF = false;
    }
    this.#consume(text);
  }

  /** The stream ended: a block without its terminating blank line is discarded, as the standard says. */
  end(): void {
    const tail = this.#decoder.decode();
    if (tail) this.#consume(tail);
    this.#pending = "";
    this.#data = [];
    this.#eventType = "";
  }

  #consume(text: string): void {
    let buffer = this.#pending + text;
    let start = 0;
    for (;;) {
      let index = -1;
      for (let i = start; i < buffer.length; i++) {
        const code = buffer.charCodeAt(i);
        if (code === LF || code === CR) {
          index = i;
          break;
        }
      }
      if (index === -1) break;
      const line = buffer.slice(start, index);
      if (buffer.charCodeAt(index) === CR) {
        if (index + 1 < buffer.length) {
          start = buffer.charCodeAt(index + 1) === LF ? index + 2 : index + 1;
        } else {
          // CR is the last character seen so far: the LF of a CRLF may arrive with the next chunk.
          this.#skipLeadingLF = true;
          start = index + 1;
        }
      } else {
        start = index + 1;
      }
      this.#processLine(line);
    }
    buffer = buffer.slice(start);
    this.#pending = buffer;
  }

  #processLine(line: string): void {
    if (line === "") {
      this.#dispatch();
      return;
    }
    if (line.charCodeAt(0) === 0x3a /* ':' */) {
      this.#handlers.onComment?.(line.slice(1));
      return;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.#eventType = value;
        break;
      case "data":
        this.#data.push(value);
        break;
      case "id":
        if (!value.includes("\u0000")) this.#lastEventId = value;
        break;
      case "retry":
        if (/^[0-9]+$/.test(value)) this.#handlers.onRetry?.(Number(value));
        break;
      default:
        // Unknown fields are ignored.
        break;
    }
  }

  #dispatch(): void {
    if (this.#data.length === 0) {
      this.#eventType = "";
      return;
    }
    const message: SSEMessage = {
      type: this.#eventType === "" ? "message" : this.#eventType,
      data: this.#data.join("\n"),
      id: this.#lastEventId,
    };
    this.#data = [];
    this.#eventType = "";
    this.#handlers.onEvent(message);
  }
}
