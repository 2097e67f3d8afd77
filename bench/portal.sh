#!/usr/bin/env bash
# The portal's budgets (issue 20): page size and render time with 10,000
# jobs stored, next to the API's listing of the same jobs in the same run
# (crates/lushan/benches/portal.rs). Results also go to bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
jobs="${1:-10000}"
cargo bench --quiet -p lushan --bench portal -- --jobs "$jobs" | tee "bench/results/$(date +%Y-%m-%d)-portal-$jobs.txt"
