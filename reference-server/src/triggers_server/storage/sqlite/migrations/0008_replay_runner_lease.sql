-- A replay job runs on one runner at a time (issue 13): the runner holding an unexpired lease (epoch seconds,
-- renewed as it progresses); another runner adopts the job once the lease has expired.
ALTER TABLE replays ADD COLUMN runner TEXT;
ALTER TABLE replays ADD COLUMN lease_until REAL;
