#!/usr/bin/env bash
# The end-to-end benchmarks: the local site (crates/lushan/benches/e2e.rs:
# submission rate, drain time against the fork-and-wait floor, `lushan jobs`
# with many jobs stored) and a Slurm site (benches/slurm_site.rs: jobs
# through Lushan to Slurm against straight sbatch). Results also go to
# bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
jobs="${1:-1000}"
# The peer: a real Slurm on this machine, started unless SKIP_SLURM=1.
if [ "${SKIP_SLURM:-0}" != 1 ]; then
    bash bench/slurm-up.sh >/dev/null
fi
cargo bench --quiet -p lushan --bench e2e -- --jobs "$jobs" | tee "bench/results/$(date +%Y-%m-%d)-$jobs.txt"
# Lushan in front of the same Slurm against straight sbatch (needs root and
# the Slurm of .ci/slurm, with slurmrestd).
if [ "${SKIP_SLURM:-0}" != 1 ]; then
    eval "$(bash .ci/slurm env)"
    cargo bench --quiet -p lushan --bench slurm_site -- --jobs "$jobs" \
        | tee "bench/results/$(date +%Y-%m-%d)-$jobs-slurm-site.txt"
fi
