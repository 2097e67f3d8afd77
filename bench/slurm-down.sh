#!/usr/bin/env bash
# Stops the Slurm that bench/slurm-up.sh started, by its pid files.
set -u
state=/var/tmp/lushan-bench-slurm
for daemon in slurmd slurmctld munged; do
    [ -f "$state/$daemon.pid" ] && kill "$(cat "$state/$daemon.pid")" 2>/dev/null
done
for daemon in slurmd slurmctld munged; do
    for _ in $(seq 1 50); do
        [ -f "$state/$daemon.pid" ] && kill -0 "$(cat "$state/$daemon.pid")" 2>/dev/null || break
        sleep 0.1
    done
    rm -f "$state/$daemon.pid"
done
