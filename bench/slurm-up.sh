#!/usr/bin/env bash
# The peer the benchmarks compare Lushan against: the same real one-host
# Slurm 22.05 the tests use (.ci/slurm: slurmctld, slurmd, slurmdbd,
# slurmrestd with JWT, on loopback, with ../shared/SLURM.md's "fast" profile:
# Epilog=/bin/true, batch_sched_delay=0). Idempotent; bench/slurm-down.sh
# stops it by its pid files.
set -euo pipefail
exec bash "$(dirname "$0")/../.ci/slurm" up
