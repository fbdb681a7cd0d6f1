-- The whole schema of SQLite migrations 0001-0006, in PostgreSQL types (version 1 of the PostgreSQL line).
-- Times compared with the clock are DOUBLE PRECISION epoch seconds; times that are shown are fixed-width
-- RFC 3339 text, which sorts chronologically; every text column sorts by code point (COLLATE "C") as SQLite's.
-- Every table carries account_id; every lookup filters on it.

CREATE TABLE accounts (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL,
    max_deliveries INTEGER NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    purged_through_seq BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE api_keys (
    id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    bootstrap INTEGER NOT NULL DEFAULT 0,
    created_at TEXT COLLATE "C" NOT NULL,
    last_used_at TEXT COLLATE "C",
    revoked_at TEXT COLLATE "C"
);
CREATE INDEX api_keys_account ON api_keys (account_id, created_at, id);

-- seq is the global stream cursor: assigned from events_seq while the ingest transaction holds the
-- deployment's event lock, so sequences follow commit order across every instance.
CREATE SEQUENCE events_seq;
CREATE TABLE events (
    seq BIGINT PRIMARY KEY,
    id TEXT COLLATE "C" NOT NULL UNIQUE,
    account_id TEXT COLLATE "C" NOT NULL,
    external_id TEXT COLLATE "C",
    type TEXT COLLATE "C" NOT NULL,
    source TEXT COLLATE "C" NOT NULL,
    subject TEXT COLLATE "C",
    time TEXT COLLATE "C" NOT NULL,
    data TEXT,
    data_base64 TEXT,
    datacontenttype TEXT,
    dataschema TEXT,
    correlation_id TEXT COLLATE "C",
    causation_id TEXT COLLATE "C",
    metadata TEXT NOT NULL DEFAULT '{}',
    extensions TEXT NOT NULL DEFAULT '{}',
    schema_version INTEGER,
    replay_of TEXT COLLATE "C",
    created_at TEXT COLLATE "C" NOT NULL,
    size_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX events_external ON events (account_id, source, external_id)
    WHERE external_id IS NOT NULL AND replay_of IS NULL;
CREATE INDEX events_account_seq ON events (account_id, seq);
CREATE INDEX events_account_type ON events (account_id, type, seq);
CREATE INDEX events_account_created ON events (account_id, created_at);
CREATE INDEX events_correlation ON events (account_id, correlation_id, seq) WHERE correlation_id IS NOT NULL;

-- state: pending | leased | acknowledged | dead_lettered; a leased entry whose visible_at has passed is
-- available again. Leases are claimed with FOR UPDATE SKIP LOCKED.
CREATE TABLE inbox (
    event_seq BIGINT PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL,
    event_type TEXT COLLATE "C" NOT NULL,
    state TEXT NOT NULL,
    visible_at DOUBLE PRECISION NOT NULL,
    delivery_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT COLLATE "C",
    lease_id TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX inbox_ready ON inbox (account_id, event_seq) WHERE state IN ('pending', 'leased');
CREATE UNIQUE INDEX inbox_receipt ON inbox (receipt) WHERE receipt IS NOT NULL;

CREATE TABLE idempotency_keys (
    account_id TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    method TEXT NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    route TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    response_headers TEXT NOT NULL,
    response_body BYTEA NOT NULL,
    resource_id TEXT,
    created_at TEXT COLLATE "C" NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    replay_status INTEGER,
    PRIMARY KEY (account_id, key, method, path)
);
CREATE INDEX idempotency_expiry ON idempotency_keys (expires_at);

CREATE TABLE subscriptions (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT COLLATE "C" NOT NULL UNIQUE,
    account_id TEXT COLLATE "C" NOT NULL,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL,
    filter TEXT,
    enabled INTEGER NOT NULL,
    disabled_reason TEXT,
    max_rps DOUBLE PRECISION,
    description TEXT,
    metadata TEXT NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at TEXT COLLATE "C",
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX subscriptions_by_account ON subscriptions (account_id, seq);

CREATE TABLE deliveries (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT COLLATE "C" NOT NULL UNIQUE,
    account_id TEXT COLLATE "C" NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL,
    event_type TEXT COLLATE "C" NOT NULL,
    subscription_id TEXT COLLATE "C" NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempt_count INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT COLLATE "C",
    last_attempt_at TEXT COLLATE "C",
    manual_pending INTEGER NOT NULL DEFAULT 0,
    last_response_status INTEGER,
    last_error TEXT,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    resume_status TEXT
);
CREATE INDEX deliveries_by_account ON deliveries (account_id, seq);
CREATE INDEX deliveries_by_event ON deliveries (account_id, event_id);
CREATE INDEX deliveries_by_subscription ON deliveries (account_id, subscription_id, seq);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

CREATE TABLE delivery_fanout (
    account_id TEXT COLLATE "C" PRIMARY KEY,
    through_sequence BIGINT NOT NULL
);

CREATE TABLE delivery_attempts (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT COLLATE "C" NOT NULL UNIQUE,
    delivery_id TEXT COLLATE "C" NOT NULL,
    account_id TEXT COLLATE "C" NOT NULL,
    attempt_number INTEGER NOT NULL,
    trigger TEXT NOT NULL,
    started_at TEXT COLLATE "C" NOT NULL,
    duration_ms DOUBLE PRECISION NOT NULL,
    request_url TEXT NOT NULL,
    request_headers TEXT NOT NULL,
    request_body TEXT NOT NULL,
    response_status INTEGER,
    response_headers TEXT,
    response_body TEXT,
    response_body_truncated INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    outcome TEXT NOT NULL,
    next_attempt_at TEXT COLLATE "C"
);
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id, attempt_number);
CREATE INDEX delivery_attempts_by_account ON delivery_attempts (account_id, started_at);

CREATE TABLE dlq_entries (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT COLLATE "C" NOT NULL UNIQUE,
    account_id TEXT COLLATE "C" NOT NULL,
    origin TEXT NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL,
    event_type TEXT COLLATE "C" NOT NULL,
    subscription_id TEXT COLLATE "C",
    delivery_id TEXT COLLATE "C",
    reason TEXT NOT NULL,
    detail TEXT,
    attempts INTEGER NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX dlq_by_account ON dlq_entries (account_id, seq);

CREATE TABLE replays (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT COLLATE "C" NOT NULL UNIQUE,
    account_id TEXT COLLATE "C" NOT NULL,
    name TEXT,
    range_from TEXT COLLATE "C" NOT NULL,
    range_to TEXT COLLATE "C" NOT NULL,
    event_types TEXT NOT NULL,
    filter TEXT,
    target TEXT NOT NULL,
    data_patch TEXT,
    dry_run INTEGER NOT NULL,
    status TEXT NOT NULL,
    matched INTEGER NOT NULL DEFAULT 0,
    processed INTEGER NOT NULL DEFAULT 0,
    delivered INTEGER NOT NULL DEFAULT 0,
    filtered INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    cursor_sequence BIGINT NOT NULL DEFAULT 0,
    created_at TEXT COLLATE "C" NOT NULL,
    started_at TEXT COLLATE "C",
    finished_at TEXT COLLATE "C"
);
CREATE INDEX replays_by_account ON replays (account_id, seq);
CREATE INDEX replays_by_status ON replays (status);

CREATE TABLE schema_subjects (
    account_id TEXT COLLATE "C" NOT NULL,
    event_type TEXT COLLATE "C" NOT NULL,
    compatibility TEXT,
    next_version INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT COLLATE "C" NOT NULL,
    default_dialect TEXT,
    PRIMARY KEY (account_id, event_type)
);

CREATE TABLE schema_versions (
    account_id TEXT COLLATE "C" NOT NULL,
    event_type TEXT COLLATE "C" NOT NULL,
    version INTEGER NOT NULL,
    json_schema TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    deleted_at TEXT COLLATE "C",
    dialect TEXT NOT NULL DEFAULT '2020-12',
    PRIMARY KEY (account_id, event_type, version),
    FOREIGN KEY (account_id, event_type) REFERENCES schema_subjects (account_id, event_type)
);
CREATE INDEX schema_versions_live ON schema_versions (account_id, event_type, deleted_at, version);
