/**
 * What every API method returns: a Promise of the parsed body that also gives raw access to the HTTP
 * response (`withResponse()`), so status, headers and the idempotency key are one call away.
 */

/** The parsed body plus what the HTTP layer knows about the call that produced it. */
export interface WithResponse<T> {
  data: T;
  /** The final fetch Response (its body has already been consumed for JSON calls). */
  response: Response;
  /** `request_id` from the server (`X-Request-Id`), when sent. */
  requestId: string | null;
  /** The Idempotency-Key that was sent on every attempt of this call (POSTs), else null. */
  idempotencyKey: string | null;
  /** True when the server answered from its idempotency cache (`Idempotent-Replayed: true`). */
  idempotentReplayed: boolean;
  /** How many retries it took (0 when the first attempt succeeded). */
  retryCount: number;
}

export class APIPromise<T> extends Promise<T> {
  readonly #raw: Promise<WithResponse<T>>;
  #parsed: Promise<T> | undefined;

  constructor(raw: Promise<WithResponse<T>>) {
    super((resolve) => {
      // The base promise is never observed: then/catch/finally below read from `raw` instead.
      resolve(undefined as T);
    });
    this.#raw = raw;
    // A call whose result nobody awaits must not crash the process with an unhandled rejection;
    // anyone who does await still sees the error through the chains below.
    raw.catch(() => undefined);
  }

  // Derived promises (from then/catch/finally) are plain Promises, not APIPromises.
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  /** The parsed body together with the raw response and call metadata. */
  withResponse(): Promise<WithResponse<T>> {
    return this.#raw;
  }

  /** Just the raw fetch Response. */
  asResponse(): Promise<Response> {
    return this.#raw.then((result) => result.response);
  }

  #data(): Promise<T> {
    this.#parsed ??= this.#raw.then((result) => result.data);
    return this.#parsed;
  }

  override then<TResult1 = T, TResult2 = never>(
    onfulfilled?: ((value: T) => TResult1 | PromiseLike<TResult1>) | null,
    onrejected?: ((reason: unknown) => TResult2 | PromiseLike<TResult2>) | null,
  ): Promise<TResult1 | TResult2> {
    return this.#data().then(onfulfilled, onrejected);
  }

  override catch<TResult = never>(
    onrejected?: ((reason: unknown) => TResult | PromiseLike<TResult>) | null,
  ): Promise<T | TResult> {
    return this.#data().catch(onrejected);
  }

  override finally(onfinally?: (() => void) | null): Promise<T> {
    return this.#data().finally(onfinally);
  }
}
