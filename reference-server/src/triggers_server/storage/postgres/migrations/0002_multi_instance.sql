-- Several server instances over one database (issue 13): what used to be process memory.

-- A keyed POST's in-flight claim: a second request with the key on any instance gets the in-flight 409.
-- `token` is the claimer's; `lease_until` (epoch seconds) lets a later request take over a claim its holder
-- never released (the instance died).
CREATE TABLE idempotency_in_flight (
    account_id TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    method TEXT NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    fingerprint TEXT NOT NULL,
    token TEXT NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    lease_until DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account_id, key, method, path)
);

-- A replay job runs on one instance at a time: the runner holding an unexpired lease (renewed as it
-- progresses); another instance adopts the job once the lease has expired.
ALTER TABLE replays ADD COLUMN runner TEXT;
ALTER TABLE replays ADD COLUMN lease_until DOUBLE PRECISION;

-- An attempt number is recorded once per delivery, whichever instance made it.
DROP INDEX delivery_attempts_by_delivery;
CREATE UNIQUE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id, attempt_number);
