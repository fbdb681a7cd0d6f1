-- Schema registry: one subject per (account, event type) holding its compatibility mode and the next
-- version number, and the versions themselves. Deleting a version is soft, so numbers are never reused.

CREATE TABLE schema_subjects (
    account_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    compatibility TEXT,
    next_version INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (account_id, event_type)
);

CREATE TABLE schema_versions (
    account_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    version INTEGER NOT NULL,
    json_schema TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    created_at TEXT NOT NULL,
    deleted_at TEXT,
    PRIMARY KEY (account_id, event_type, version),
    FOREIGN KEY (account_id, event_type) REFERENCES schema_subjects (account_id, event_type)
);
CREATE INDEX schema_versions_live ON schema_versions (account_id, event_type, deleted_at, version);
