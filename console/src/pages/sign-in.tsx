/** The sign-in form: the key is checked against the API (GET /account) before it is kept. */
import { AuthenticationError } from "@zapier-triggers/sdk";
import type { JSX } from "preact";
import { useState } from "preact/hooks";

import { describeError, makeClient } from "../api.js";
import { ErrorLine } from "../text.js";

export function SignIn(props: { onSignedIn: (key: string) => void; notice?: string | null }): JSX.Element {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

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
