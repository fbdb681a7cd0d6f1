/** The shell: sign-in when there is no key, else the navigation and the page the path names. */
import type { TriggersClient } from "@zapier-triggers/sdk";
import type { JSX } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";

import { ClientContext, makeClient, UNAUTHORIZED_EVENT } from "./api.js";
import { DeliveryPage } from "./pages/delivery.js";
import { DlqPage } from "./pages/dlq.js";
import { EventPage } from "./pages/event.js";
import { EventsPage } from "./pages/events.js";
import { InboxPage } from "./pages/inbox.js";
import { MetricsPage } from "./pages/metrics.js";
import { ReplaysPage } from "./pages/replays.js";
import { SchemaPage, SchemasPage } from "./pages/schemas.js";
import { SignIn } from "./pages/sign-in.js";
import { SubscriptionsPage } from "./pages/subscriptions.js";
import { Link, match, navigate, usePath } from "./router.js";
import { clearKey, loadKey, maskKey, saveKey } from "./session.js";

const NAV: readonly (readonly [string, string])[] = [
  ["/events", "Events"],
  ["/dlq", "Dead letters"],
  ["/subscriptions", "Subscriptions"],
  ["/replays", "Replays"],
  ["/inbox", "Inbox"],
  ["/schemas", "Schemas"],
  ["/metrics", "Metrics"],
];

function Page(props: { path: string }): JSX.Element {
  const { path } = props;
  let params: Record<string, string> | null;
  if ((params = match("/events/:id", path)) !== null) return <EventPage id={params["id"] ?? ""} />;
  if ((params = match("/deliveries/:id", path)) !== null) return <DeliveryPage id={params["id"] ?? ""} />;
  if ((params = match("/schemas/:type", path)) !== null) return <SchemaPage eventType={params["type"] ?? ""} />;
  if (match("/dlq", path) !== null) return <DlqPage />;
  if (match("/inbox", path) !== null) return <InboxPage />;
  if (match("/replays", path) !== null) return <ReplaysPage />;
  if (match("/schemas", path) !== null) return <SchemasPage />;
  if (match("/metrics", path) !== null) return <MetricsPage />;
  if (match("/subscriptions", path) !== null) return <SubscriptionsPage />;
  if (match("/events", path) !== null || path === "/") return <EventsPage />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no console page at <code>{path}</code>. <Link to="/events">Go to the events.</Link>
      </p>
    </section>
  );
}

export function App(): JSX.Element {
  const [key, setKey] = useState<string | null>(loadKey);
  const [notice, setNotice] = useState<string | null>(null);
  const path = usePath();
  const client = useMemo<TriggersClient | null>(
    () => (key === null ? null : makeClient(key, () => window.dispatchEvent(new Event(UNAUTHORIZED_EVENT)))),
    [key],
  );
  const signOut = (): void => {
    clearKey();
    setKey(null);
  };

  useEffect(() => {
    const rejected = (): void => {
      signOut();
      setNotice("The server no longer accepts that API key (revoked or expired): sign in again.");
    };
    window.addEventListener(UNAUTHORIZED_EVENT, rejected);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, rejected);
  }, []);

  if (key === null || client === null) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(signedIn) => {
          saveKey(signedIn);
          setNotice(null);
          setKey(signedIn);
          if (path === "/") navigate("/events");
        }}
      />
    );
  }
  return (
    <ClientContext.Provider value={client}>
      <header class="top">
        <span class="brand">Triggers console</span>
        <nav aria-label="Console pages">
          {NAV.map(([to, label]) => (
            <Link key={to} to={to} class={path.startsWith(to) ? "current" : undefined}>
              {label}
            </Link>
          ))}
          {/* The API reference is its own page (outside the console's router); this tab's key goes with it. */}
          <a href="/docs">Docs</a>
        </nav>
        <span class="who">
          <span aria-label="Signed-in API key">{maskKey(key)}</span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </span>
      </header>
      <main>
        <Page path={path} />
      </main>
    </ClientContext.Provider>
  );
}
