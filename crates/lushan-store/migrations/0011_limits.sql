-- Operators' limits per project (Slurm's association Grp* limits) and per
-- user (Slurm's QOS Max*PerUser): running jobs, CPUs and GPUs in use, jobs
-- pending or running. NULL: no limit. A row with every value NULL is not
-- kept.
CREATE TABLE limits (
    scope TEXT NOT NULL,
    scope_id BIGINT NOT NULL,
    max_running_jobs BIGINT,
    max_cpus BIGINT,
    max_gpus BIGINT,
    max_submitted BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (scope, scope_id)
);
