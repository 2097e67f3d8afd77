#!/usr/bin/env bash
# Stops the Slurm that bench/slurm-up.sh started, by its pid files.
set -euo pipefail
exec bash "$(dirname "$0")/../.ci/slurm" down
