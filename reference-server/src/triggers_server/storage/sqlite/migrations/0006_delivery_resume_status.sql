-- A manual retry puts a delivery back to `pending` (issue 10 §2.4: the contract's 202 body is the delivery,
-- pending). `resume_status` remembers the terminal status it was retried from, so a failed manual attempt
-- returns there instead of starting a new retry schedule; NULL when the regular schedule continues.
ALTER TABLE deliveries ADD COLUMN resume_status TEXT;
