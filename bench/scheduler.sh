#!/usr/bin/env bash
# The scheduler's benchmarks (pure code, no services needed):
# - crates/lushan-scheduler/benches/pass.rs (criterion): one pass at 1k, 10k
#   and 100k pending jobs on 1k and 5k nodes, for EASY, conservative
#   estimates and the co-built case;
# - benches/cluster.rs: the same EASY pass beside the pool planner's on the
#   same queue (the cost of node awareness), as one table.
# (Simulator speed per trace and policy: docs/simulation.md.)
# The reports go to bench/results/DATE-scheduler.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
out="bench/results/$(date +%Y-%m-%d)-scheduler.txt"
{
    echo "# $(date -u +%FT%TZ) $(nproc) CPUs, $(uname -m), rustc $(rustc --version | cut -d' ' -f2)"
    echo "## criterion: cargo bench -p lushan-scheduler --bench pass"
    cargo bench --quiet -p lushan-scheduler --bench pass 2>/dev/null | grep -E '^[a-z-]+/|time:'
    echo "## cargo bench -p lushan-scheduler --bench cluster"
    cargo bench --quiet -p lushan-scheduler --bench cluster 2>/dev/null
} | tee "$out"
