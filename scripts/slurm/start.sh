#!/usr/bin/env bash
# Starts a throw-away single-node Slurm (munged + slurmctld + slurmd on localhost) for tests and CI.
#
#   scripts/slurm/start.sh STATE_DIR      # prints `export SLURM_CONF=STATE_DIR/slurm.conf`
#   scripts/slurm/stop.sh  STATE_DIR
#
# Everything lives in STATE_DIR: its own munge key and socket, slurm.conf, spool, logs and pid files, and
# non-default ports (ISAC_SLURM_PORT, default 16817/16818), so it neither needs nor touches a system Slurm
# or munge set-up. One node with ISAC_SLURM_CPUS CPUs (default 2) in partition `debug`; no cgroups
# (proctrack/linuxproc, task/none), no accounting. Needs root (slurmd runs jobs as the submitting user)
# and the Debian packages slurm-wlm and munge (installed when missing).
set -euo pipefail
state=${1:?usage: start.sh STATE_DIR}
cpus=${ISAC_SLURM_CPUS:-2}
port=${ISAC_SLURM_PORT:-16817}

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    echo "slurm: installing slurm-wlm munge" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq slurm-wlm munge >/dev/null
fi
[ "$(id -u)" -eq 0 ] || { echo "slurm: start.sh must run as root (slurmd)" >&2; exit 1; }

mkdir -p "$state"
state=$(cd "$state" && pwd)
chmod 700 "$state"
mkdir -p "$state/ctld" "$state/spool" "$state/munge"
chmod 700 "$state/munge"

# munge: a fresh key and a private socket.
dd if=/dev/urandom of="$state/munge/munge.key" bs=1 count=1024 status=none
chmod 400 "$state/munge/munge.key"
munged --force --key-file="$state/munge/munge.key" --socket="$state/munge/munge.sock" \
       --pid-file="$state/munge/munged.pid" --log-file="$state/munge/munged.log" --seed-file="$state/munge/munge.seed"

host=$(hostname -s)
cat >"$state/slurm.conf" <<CONF
ClusterName=isacci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$state/munge/munge.sock
SlurmctldPort=$port
SlurmdPort=$((port + 1))
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MaxArraySize=10001
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=300
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$state/slurm.conf"

slurmctld -f "$SLURM_CONF" -i
slurmd -f "$SLURM_CONF" -N "$host"

# Wait (up to 60 s) for the node to come up idle.
for _ in $(seq 60); do
    if sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
        echo "export SLURM_CONF=$SLURM_CONF"
        exit 0
    fi
    sleep 1
done
echo "slurm: node did not become idle; logs in $state" >&2
sinfo -N -l >&2 || true
tail -n 20 "$state/slurmctld.log" "$state/slurmd.log" >&2 || true
exit 1
