-- The Slurm cluster name a site is in slurmdbd (associations are per
-- cluster); '' for local sites.
ALTER TABLE sites ADD COLUMN cluster TEXT NOT NULL DEFAULT '';

-- Why a job runs where it runs: for a job that named no site, the site the
-- platform chose and the reason (estimated start, price, the others);
-- '' when the user named the site.
ALTER TABLE jobs ADD COLUMN route TEXT NOT NULL DEFAULT '';

-- A partition's longest time limit (Slurm's MaxTime) in seconds; NULL for
-- none. A job that asks for more is refused at submission; one that asks
-- for nothing gets the smaller of Lushan's default and this.
ALTER TABLE partitions ADD COLUMN max_time_secs BIGINT;
