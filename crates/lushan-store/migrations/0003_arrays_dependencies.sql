-- Job arrays (one row per task), dependencies and --begin.
ALTER TABLE jobs ADD COLUMN array_job_id BIGINT;
ALTER TABLE jobs ADD COLUMN array_task_id BIGINT;
ALTER TABLE jobs ADD COLUMN array_throttle BIGINT;
-- The --dependency text as given ('' for none); parsed again by the server.
ALTER TABLE jobs ADD COLUMN dependency TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN begin_time BIGINT;
CREATE INDEX jobs_array ON jobs (array_job_id);
