/**
 * Cursor pagination (`{data, next_cursor}`): `await` a list call for its first page, `for await` it for
 * every item across pages, or iterate `.pages()` to work page by page.
 */
import { APIPromise, type WithResponse } from "./api-promise.js";

/** A list response as it comes off the wire. */
export interface PageBody<Item> {
  data: Item[];
  next_cursor: string | null;
}

/** One page of results, able to fetch the page after it. */
export class CursorPage<Item> implements PageBody<Item> {
  readonly data: Item[];
  readonly next_cursor: string | null;
  readonly #fetchNext: (cursor: string) => PagePromise<Item>;

  constructor(body: PageBody<Item>, fetchNext: (cursor: string) => PagePromise<Item>) {
    this.data = Array.isArray(body.data) ? body.data : [];
    this.next_cursor = typeof body.next_cursor === "string" && body.next_cursor !== "" ? body.next_cursor : null;
    this.#fetchNext = fetchNext;
  }

  hasNextPage(): boolean {
    return this.next_cursor !== null;
  }

  /** The following page; throws when there is none (check `hasNextPage()` first). */
  getNextPage(): PagePromise<Item> {
    if (this.next_cursor === null) throw new RangeError("This is the last page: next_cursor is null");
    return this.#fetchNext(this.next_cursor);
  }
}

/** The result of a list call: a promise of the first page that is also an async iterable of all items. */
export class PagePromise<Item> extends APIPromise<CursorPage<Item>> implements AsyncIterable<Item> {
  constructor(raw: Promise<WithResponse<CursorPage<Item>>>) {
    super(raw);
  }

  /** Every page in order, starting with this one, until `next_cursor` is null. */
  async *pages(): AsyncGenerator<CursorPage<Item>, void, undefined> {
    let page: CursorPage<Item> = await this;
    const seen = new Set<string>();
    yield page;
    while (page.next_cursor !== null) {
      // A server that hands back a cursor it already gave would loop forever; stop instead.
      if (seen.has(page.next_cursor)) return;
      seen.add(page.next_cursor);
      page = await page.getNextPage();
      yield page;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Item, void, undefined> {
    for await (const page of this.pages()) yield* page.data;
  }
}
