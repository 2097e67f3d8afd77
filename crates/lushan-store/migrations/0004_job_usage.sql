-- What a job used, recorded when it ends (sacct's MaxRSS and TotalCPU).
ALTER TABLE jobs ADD COLUMN max_rss_kib BIGINT;
ALTER TABLE jobs ADD COLUMN total_cpu_ms BIGINT;
