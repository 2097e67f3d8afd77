-- The Slurm cluster name a site is in slurmdbd (associations are per
-- cluster); '' for local sites.
ALTER TABLE sites ADD COLUMN cluster TEXT NOT NULL DEFAULT '';

-- Why a job runs where it runs: for a job that named no site, the site the
-- platform chose and the reason (estimated start, price, the others);
-- '' when the user named the site.
ALTER TABLE jobs ADD COLUMN route TEXT NOT NULL DEFAULT '';
