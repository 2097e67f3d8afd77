#!/usr/bin/env bash
# The end-to-end benchmark of the local site (crates/lushan/benches/e2e.rs):
# submission rate, drain time against the fork-and-wait floor, `lushan jobs`
# with many jobs stored. Results also go to bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
jobs="${1:-1000}"
# The peer: a real Slurm on this machine, started unless SKIP_SLURM=1.
if [ "${SKIP_SLURM:-0}" != 1 ]; then
    bash bench/slurm-up.sh >/dev/null
fi
cargo bench --quiet -p lushan --bench e2e -- --jobs "$jobs" | tee "bench/results/$(date +%Y-%m-%d)-$jobs.txt"
