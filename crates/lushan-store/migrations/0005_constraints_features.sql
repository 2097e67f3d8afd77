-- What -C/--constraint asks for, and the node features it matches (Slurm's
-- node Features), comma-separated.
ALTER TABLE jobs ADD COLUMN constraint_expr TEXT NOT NULL DEFAULT '';
ALTER TABLE nodes ADD COLUMN features TEXT NOT NULL DEFAULT '';
