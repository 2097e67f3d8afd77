#!/usr/bin/env bash
# Stops the Slurm that bench/slurm-up.sh started, by its pid files.
set -u
state=/var/tmp/lushan-bench-slurm
pids=("$state/slurmd.pid" "$state/slurmctld.pid" /run/munge/munged.pid)
for pid in "${pids[@]}"; do
    [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null
done
for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do
        [ -f "$pid" ] && kill -0 "$(cat "$pid")" 2>/dev/null || break
        sleep 0.1
    done
    rm -f "$pid"
done
