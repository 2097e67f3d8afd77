-- Limits on one member within one project: Slurm's limits on the (user,
-- account) association (MaxJobs, GrpTRES=cpu=N,gres/gpu=N,
-- MaxSubmitJobs), set by operators, the project's tenant admins, its PI
-- and managers. They bound what the user does in this project only. NULL:
-- no limit; a row with every value NULL is not kept; a member's row goes
-- when they leave the project.
CREATE TABLE member_limits (
    project_id BIGINT NOT NULL REFERENCES projects (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    max_running_jobs BIGINT,
    max_cpus BIGINT,
    max_gpus BIGINT,
    max_submitted BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
