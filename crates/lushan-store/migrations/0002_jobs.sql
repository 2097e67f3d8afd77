-- Jobs. One row per job (array tasks, when they come, get rows of their own).
-- Resources are per node; `cpus_per_node * nodes` is what the job holds.

INSERT INTO counters (name, next_value) VALUES ('job', 1);

CREATE TABLE jobs (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    project_id BIGINT NOT NULL REFERENCES projects (id),
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    site_id BIGINT NOT NULL REFERENCES sites (id),
    partition_id BIGINT NOT NULL REFERENCES partitions (id),
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    submit_time BIGINT NOT NULL,
    start_time BIGINT,
    end_time BIGINT,
    -- 0 means no limit.
    time_limit_secs BIGINT NOT NULL,
    nodes BIGINT NOT NULL,
    ntasks BIGINT NOT NULL,
    cpus_per_task BIGINT NOT NULL,
    cpus_per_node BIGINT NOT NULL,
    mem_per_node_mb BIGINT NOT NULL,
    gpus_per_node BIGINT NOT NULL,
    exclusive BIGINT NOT NULL CHECK (exclusive IN (0, 1)),
    held BIGINT NOT NULL CHECK (held IN (0, 1)),
    workdir TEXT NOT NULL,
    stdout_path TEXT NOT NULL,
    stderr_path TEXT NOT NULL,
    stdin_path TEXT NOT NULL,
    open_mode TEXT NOT NULL,
    script TEXT NOT NULL,
    -- JSON written and read by the server; the store does not look inside.
    args_json TEXT NOT NULL,
    env_json TEXT NOT NULL,
    request_json TEXT NOT NULL,
    comment TEXT NOT NULL,
    exit_code BIGINT,
    exit_signal BIGINT,
    node_list TEXT NOT NULL,
    alloc_json TEXT NOT NULL,
    -- `user_id:key` when the client sent an idempotency key.
    idempotency_key TEXT UNIQUE
);
CREATE INDEX jobs_state ON jobs (state);
CREATE INDEX jobs_user ON jobs (user_id);
CREATE INDEX jobs_project ON jobs (project_id);
