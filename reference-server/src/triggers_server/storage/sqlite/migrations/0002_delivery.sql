-- Webhook delivery: subscriptions, deliveries with their attempts, the dead-letter queue, replay jobs.
-- Every table carries account_id; every lookup filters on it (another account's row is a 404).
-- Timestamps are fixed-width RFC 3339 UTC strings (clock.isoformat), so they sort chronologically.

CREATE TABLE subscriptions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL,            -- JSON array of globs; [] = every type
    filter TEXT,                          -- JSON filter expression or NULL
    enabled INTEGER NOT NULL,
    disabled_reason TEXT,                 -- why the server disabled it (e.g. 410 Gone)
    max_rps REAL,
    description TEXT,
    metadata TEXT NOT NULL,               -- JSON object of strings
    secret TEXT NOT NULL,
    previous_secret TEXT,                 -- still signs until previous_secret_expires_at (rotation overlap)
    previous_secret_expires_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX subscriptions_by_account ON subscriptions (account_id, seq);

CREATE TABLE deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    payload TEXT NOT NULL,                -- the exact JSON body sent on every attempt
    status TEXT NOT NULL,
    attempt_count INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,                 -- NULL once terminal
    last_attempt_at TEXT,
    manual_pending INTEGER NOT NULL DEFAULT 0, -- a manual retry is queued: one attempt, not rescheduled
    last_response_status INTEGER,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX deliveries_by_account ON deliveries (account_id, seq);
CREATE INDEX deliveries_by_event ON deliveries (account_id, event_id);
CREATE INDEX deliveries_by_subscription ON deliveries (account_id, subscription_id, seq);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- Per account, the highest event sequence whose deliveries exist: after a crash between an event's commit
-- and its fan-out, the worker fans out every later event on start (at-least-once webhooks).
CREATE TABLE delivery_fanout (
    account_id TEXT PRIMARY KEY,
    through_sequence INTEGER NOT NULL
);

CREATE TABLE delivery_attempts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    delivery_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    attempt_number INTEGER NOT NULL,
    trigger TEXT NOT NULL,                -- scheduled | manual
    started_at TEXT NOT NULL,
    duration_ms REAL NOT NULL,
    request_url TEXT NOT NULL,
    request_headers TEXT NOT NULL,        -- JSON object
    request_body TEXT NOT NULL,
    response_status INTEGER,
    response_headers TEXT,                -- JSON object
    response_body TEXT,                   -- truncated to 20 KB
    response_body_truncated INTEGER NOT NULL DEFAULT 0,
    error TEXT,                           -- transport error or timeout
    outcome TEXT NOT NULL,                -- succeeded | failed
    next_attempt_at TEXT
);
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id, attempt_number);
CREATE INDEX delivery_attempts_by_account ON delivery_attempts (account_id, started_at);  -- /stats success rate

CREATE TABLE dlq_entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    origin TEXT NOT NULL,                 -- inbox | delivery
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    subscription_id TEXT,
    delivery_id TEXT,
    reason TEXT NOT NULL,                 -- max_deliveries_exceeded | retries_exhausted | ...
    detail TEXT,
    attempts INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX dlq_by_account ON dlq_entries (account_id, seq);

CREATE TABLE replays (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    name TEXT,
    range_from TEXT NOT NULL,
    range_to TEXT NOT NULL,
    event_types TEXT NOT NULL,            -- JSON array of globs
    filter TEXT,                          -- JSON filter expression or NULL
    target TEXT NOT NULL,                 -- JSON ReplayTarget
    data_patch TEXT,                      -- JSON merge patch or NULL
    dry_run INTEGER NOT NULL,
    status TEXT NOT NULL,                 -- STARTING | RUNNING | COMPLETED | FAILED | CANCELLING | CANCELLED
    matched INTEGER NOT NULL DEFAULT 0,
    processed INTEGER NOT NULL DEFAULT 0,
    delivered INTEGER NOT NULL DEFAULT 0,
    filtered INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    cursor_sequence INTEGER NOT NULL DEFAULT 0, -- last processed event sequence (resume point)
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
);
CREATE INDEX replays_by_account ON replays (account_id, seq);
CREATE INDEX replays_by_status ON replays (status);
