-- A stored response may be replayed with another status than it first had: POST /events answers 201 the
-- first time and 200 on an idempotent replay. NULL = replay with status_code.
ALTER TABLE idempotency_keys ADD COLUMN replay_status INTEGER;
