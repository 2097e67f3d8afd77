-- Job lists (the portal's pages and home page, counts, the queue per
-- partition) filter by state and by whose the jobs are (the caller's
-- scope: user, or user or managed projects, or tenant), count them (also
-- per site and partition) and page them by id. A job's row is
-- kilobytes (script, environment) and `id` is not SQLite's rowid, so an
-- index without `id` sends every listed job to its row. These indexes
-- hold what a listing reads, so a count and a page's ids come from them
-- alone. Measured on bench/portal.sh's 10,000 jobs (SQLite's own time):
-- one user's pending count 25 -> 1 ms; the page of a PI's jobs (user or
-- project) 25 -> 5 ms; a tenant's last page 25 -> 1 ms; the queue per
-- partition 180 -> 10 ms.
CREATE INDEX jobs_listing ON jobs (state, user_id, project_id, tenant_id, site_id, partition_id, id);
-- `jobs_listing` starts with the state: it serves what this served.
DROP INDEX jobs_state;
DROP INDEX jobs_user;
CREATE INDEX jobs_user ON jobs (user_id, id);
DROP INDEX jobs_project;
CREATE INDEX jobs_project ON jobs (project_id, id);
CREATE INDEX jobs_tenant ON jobs (tenant_id, id);
