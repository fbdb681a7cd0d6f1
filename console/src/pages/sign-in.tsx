/**
 * The sign-in form: the key is checked against the API (GET /account) before it is kept. A sign-in link the
 * local server printed (`/console/#code=…`) signs in by itself: the fragment is dropped from the address bar
 * at once and the one-time code is redeemed for a new key, so no key is ever in a URL.
 */
import { AuthenticationError } from "@zapier-triggers/sdk";
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

import { describeError, makeClient } from "../api.js";
import { ErrorLine } from "../text.js";

/** The one-time code of a sign-in link, taken out of the address bar (and history) as it is read. */
function takeLinkCode(): string | null {
  const code = new URLSearchParams(window.location.hash.slice(1)).get("code");
  if (code === null) return null;
  history.replaceState(history.state, "", window.location.pathname + window.location.search);
  return code === "" ? null : code;
}

// Redeeming needs no key (`security: []` in the contract); the SDK's client wants one, so it gets a label that
// authorizes nothing.
const NO_KEY = "anonymous";

export function SignIn(props: { onSignedIn: (key: string) => void; notice?: string | null }): JSX.Element {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const code = takeLinkCode();
    if (code === null) return;
    setBusy(true);
    makeClient(NO_KEY)
      .apiKeys.redeemSignInCode({ code })
      .then((created) => {
        if (created.key) props.onSignedIn(created.key);
        else setError("The server answered without a key.");
      })
      .catch((caught: unknown) => {
        setError(
          caught instanceof AuthenticationError
            ? "That sign-in link was already used or has expired: start the server again, or enter an API key."
            : describeError(caught),
        );
      })
      .finally(() => setBusy(false));
  }, []);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const candidate = key.trim();
    if (candidate === "") {
      setError("Enter an API key.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await makeClient(candidate).account.get();
      props.onSignedIn(candidate);
    } catch (caught) {
      setError(caught instanceof AuthenticationError ? "That API key was not accepted." : describeError(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <h1>Triggers console</h1>
      {props.notice ? (
        <p class="error" role="status">
          {props.notice}
        </p>
      ) : null}
      <form onSubmit={(event) => void submit(event)}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <ErrorLine error={error} />
        <p class="muted">The key stays in this tab (session storage) and is sent only to this server.</p>
      </form>
    </main>
  );
}
