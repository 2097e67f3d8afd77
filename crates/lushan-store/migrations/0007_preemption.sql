-- Owners' preemption of guests on co-built nodes.
--
-- A partition says what happens to guests when a node's owner needs it
-- (Slurm's PreemptMode and GraceTime): off, cancel or requeue, and the
-- seconds between SIGTERM and SIGKILL. Co-builders keep priority on their
-- nodes by default: requeue after 60 s.
ALTER TABLE partitions ADD COLUMN preempt_mode TEXT NOT NULL DEFAULT 'requeue';
ALTER TABLE partitions ADD COLUMN grace_secs BIGINT NOT NULL DEFAULT 60;

-- A job's runs: restarts counts requeues (Slurm's Restarts); while a guest
-- is being preempted, preempted_at says since when, preempted_by for whom,
-- and preempt_deadline when it is killed. requeue = 0 is --no-requeue.
ALTER TABLE jobs ADD COLUMN restarts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN preempted_at BIGINT;
ALTER TABLE jobs ADD COLUMN preempted_by BIGINT;
ALTER TABLE jobs ADD COLUMN preempt_deadline BIGINT;
ALTER TABLE jobs ADD COLUMN requeue BIGINT NOT NULL DEFAULT 1;

-- One charge per run, not per job: a requeued job is held for and settled
-- once per run, and each run keeps where and how long it ran (the job row
-- is reset when it is requeued).
CREATE TABLE job_run_charges (
    job_id BIGINT NOT NULL REFERENCES jobs (id),
    run BIGINT NOT NULL,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    funding TEXT NOT NULL,
    grant_id BIGINT,
    price_id BIGINT NOT NULL REFERENCES prices (id),
    discount_bp BIGINT NOT NULL,
    held BIGINT NOT NULL,
    charged BIGINT,
    settled_at BIGINT,
    core_seconds BIGINT,
    gpu_seconds BIGINT,
    owner_share_fen BIGINT,
    started_at BIGINT,
    ended_at BIGINT,
    end_state TEXT,
    alloc_json TEXT NOT NULL DEFAULT '{}',
    -- Who owned the nodes the run held, when it ended: 'TENANT:CORES,...'
    -- (a settlement lists what ran on a co-builder's nodes while they were
    -- its, even after they change hands). Empty before this migration.
    node_owners TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (job_id, run)
);
INSERT INTO job_run_charges (job_id, run, tenant_id, funding, grant_id, price_id, discount_bp, held, charged,
        settled_at, core_seconds, gpu_seconds, owner_share_fen, started_at, ended_at, end_state, alloc_json)
    SELECT c.job_id, 0, c.tenant_id, c.funding, c.grant_id, c.price_id, c.discount_bp, c.held, c.charged,
        c.settled_at, c.core_seconds, c.gpu_seconds, c.owner_share_fen,
        CASE WHEN c.settled_at IS NULL THEN NULL ELSE j.start_time END,
        CASE WHEN c.settled_at IS NULL THEN NULL ELSE j.end_time END,
        CASE WHEN c.settled_at IS NULL THEN NULL ELSE j.state END,
        CASE WHEN c.settled_at IS NULL THEN '{}' ELSE j.alloc_json END
    FROM job_charges c JOIN jobs j ON j.id = c.job_id;
DROP TABLE job_charges;
ALTER TABLE job_run_charges RENAME TO job_charges;
CREATE INDEX job_charges_settled ON job_charges (settled_at);
