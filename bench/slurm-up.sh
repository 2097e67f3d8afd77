#!/usr/bin/env bash
# Starts a real single-host Slurm (Debian's slurm-wlm: munge, slurmctld,
# slurmd; no accounting) bound to loopback, as ../shared/SLURM.md describes,
# with its "fast" profile (Epilog=/bin/true, batch_sched_delay=0): the peer
# the benchmarks compare Lushan against. Idempotent. Stop it with
# bench/slurm-down.sh (by pid files, never by name).
set -euo pipefail
state=/var/tmp/lushan-bench-slurm
mkdir -p "$state"

if ! command -v slurmctld >/dev/null 2>&1; then
    apt-get update -qq
    # The image denies service starts during installs; we start daemons by hand.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

host=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
chown slurm:slurm /var/spool/slurmctld /var/log/slurm 2>/dev/null || true
cat >/etc/slurm/slurm.conf <<CONF
ClusterName=bench
SlurmctldHost=$host(127.0.0.1)
SlurmUser=slurm
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=512
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
Epilog=/bin/true
MailProg=/bin/true
MpiDefault=none
ReturnToService=2
MaxArraySize=100001
MaxJobCount=200000
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
[ -f /etc/munge/munge.key ] || { dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
chown munge:munge /run/munge

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
# munged runs as munge and writes its own pid file where munge may write.
munge_pid=/run/munge/munged.pid
if ! alive "$munge_pid"; then
    runuser -u munge -- munged --num-threads=4 --pid-file="$munge_pid" --force
fi
alive "$state/slurmctld.pid" || slurmctld
alive "$state/slurmd.pid" || slurmd
for _ in $(seq 1 100); do
    sinfo -h -o %t 2>/dev/null | grep -q idle && break
    sleep 0.1
done
sinfo
