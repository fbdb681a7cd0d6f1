-- Core tables: accounts, API keys, events, the inbox queue, idempotency records.
-- Times that are compared with the clock are REAL epoch seconds; times that are shown are fixed-width
-- RFC 3339 text (YYYY-MM-DDTHH:MM:SS.ffffffZ), which sorts chronologically.

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    max_deliveries INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    purged_through_seq INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    bootstrap INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX api_keys_account ON api_keys (account_id, created_at, id);

-- seq is the per-account monotonic cursor (one global AUTOINCREMENT: assigned by the single writer in
-- commit order, so once seq N is visible every smaller seq is visible too).
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    external_id TEXT,
    type TEXT NOT NULL,
    source TEXT NOT NULL,
    subject TEXT,
    time TEXT NOT NULL,
    data TEXT,
    data_base64 TEXT,
    datacontenttype TEXT,
    dataschema TEXT,
    correlation_id TEXT,
    causation_id TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    extensions TEXT NOT NULL DEFAULT '{}',
    schema_version INTEGER,
    replay_of TEXT,
    created_at TEXT NOT NULL,
    size_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX events_external ON events (account_id, source, external_id)
    WHERE external_id IS NOT NULL AND replay_of IS NULL;
CREATE INDEX events_account_seq ON events (account_id, seq);
CREATE INDEX events_account_type ON events (account_id, type, seq);
CREATE INDEX events_account_created ON events (account_id, created_at);
CREATE INDEX events_correlation ON events (account_id, correlation_id, seq) WHERE correlation_id IS NOT NULL;

-- One inbox entry per event put into the pull queue. state: pending | leased | acknowledged | dead_lettered;
-- a leased entry whose visible_at has passed is available again.
CREATE TABLE inbox (
    event_seq INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    state TEXT NOT NULL,
    visible_at REAL NOT NULL,
    delivery_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT,
    lease_id TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX inbox_ready ON inbox (account_id, event_seq) WHERE state IN ('pending', 'leased');
CREATE UNIQUE INDEX inbox_receipt ON inbox (receipt) WHERE receipt IS NOT NULL;

CREATE TABLE idempotency_keys (
    account_id TEXT NOT NULL,
    key TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    route TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    response_headers TEXT NOT NULL,
    response_body BLOB NOT NULL,
    resource_id TEXT,
    created_at TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (account_id, key, method, path)
);
CREATE INDEX idempotency_expiry ON idempotency_keys (expires_at);
