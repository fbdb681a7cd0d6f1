-- A keyed POST's in-flight claim (issue 13): the database, not process memory, answers "still executing".
-- `token` is the claimer's; `lease_until` (epoch seconds) lets a later request take over a claim its holder
-- never released (a crash).
CREATE TABLE idempotency_in_flight (
    account_id TEXT NOT NULL,
    key TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    lease_until REAL NOT NULL,
    PRIMARY KEY (account_id, key, method, path)
);
