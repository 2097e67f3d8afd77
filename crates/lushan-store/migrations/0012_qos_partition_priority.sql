-- Quality of service levels (Slurm's QOS): a name users pass with -q and a
-- priority the multifactor QOS factor is taken from. `normal` is every
-- job's QOS unless it asks for another; it cannot be removed.
CREATE TABLE qos (
    name TEXT PRIMARY KEY,
    priority BIGINT NOT NULL,
    description TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO qos (name, priority, description, updated_at) VALUES ('normal', 0, 'the default QOS', 0);

-- A job's QOS, until now only in its request.
ALTER TABLE jobs ADD COLUMN qos TEXT NOT NULL DEFAULT 'normal';

-- Slurm's PriorityJobFactor: the partition factor of multifactor priority.
ALTER TABLE partitions ADD COLUMN priority_job_factor BIGINT NOT NULL DEFAULT 1;
