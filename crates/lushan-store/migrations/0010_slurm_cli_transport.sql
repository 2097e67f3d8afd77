-- How a Slurm site is reached: 'rest' (slurmrestd at rest_url, JWTs signed
-- with jwt_key_path) or 'cli' (Slurm's commands on the server's host, in
-- slurm_bin, or on PATH when it is ''); '' for local sites.
ALTER TABLE sites ADD COLUMN transport TEXT NOT NULL DEFAULT '';
ALTER TABLE sites ADD COLUMN slurm_bin TEXT NOT NULL DEFAULT '';
UPDATE sites SET transport = 'rest' WHERE backend = 'slurm';
