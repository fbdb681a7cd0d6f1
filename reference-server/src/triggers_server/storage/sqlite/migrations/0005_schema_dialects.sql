-- Schema dialects: an event type's default dialect for schemas without `$schema` (NULL = 2020-12), and the
-- dialect each version was read in (versions registered before this migration were read as 2020-12).
ALTER TABLE schema_subjects ADD COLUMN default_dialect TEXT;
ALTER TABLE schema_versions ADD COLUMN dialect TEXT NOT NULL DEFAULT '2020-12';
