-- Slurm sites: how Lushan reaches each one (slurmrestd's URL, the JWT key
-- it signs with, the account it reads the cluster as), when its partitions
-- and nodes were last read from Slurm, and the last error talking to it
-- ('' while it answers). Local sites leave these empty.
ALTER TABLE sites ADD COLUMN rest_url TEXT NOT NULL DEFAULT '';
ALTER TABLE sites ADD COLUMN jwt_key_path TEXT NOT NULL DEFAULT '';
ALTER TABLE sites ADD COLUMN service_user TEXT NOT NULL DEFAULT '';
ALTER TABLE sites ADD COLUMN synced_at BIGINT;
ALTER TABLE sites ADD COLUMN last_error TEXT NOT NULL DEFAULT '';

-- A Slurm node's state in Slurm's words (idle, mixed, down...); '' for
-- local nodes, whose state Lushan derives from its own allocations.
ALTER TABLE nodes ADD COLUMN state TEXT NOT NULL DEFAULT '';

-- A job forwarded to a Slurm site: forwarding_at is written before the
-- submission is sent, remote_id (Slurm's job id) once Slurm accepted it.
-- A job with the first and not the second is looked for on the cluster
-- (by its comment) before it is ever sent again.
ALTER TABLE jobs ADD COLUMN forwarding_at BIGINT;
ALTER TABLE jobs ADD COLUMN remote_id BIGINT;
CREATE INDEX jobs_site_remote ON jobs (site_id, remote_id);
