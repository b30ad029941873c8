#!/usr/bin/env bash
# Stops what scripts/slurm/start.sh STATE_DIR started (by the pid files in STATE_DIR) and removes STATE_DIR.
set -uo pipefail
state=${1:?usage: stop.sh STATE_DIR}
[ -d "$state" ] || exit 0
if [ -f "$state/slurm.conf" ] && command -v scancel >/dev/null 2>&1; then
    SLURM_CONF="$state/slurm.conf" timeout 10 scancel --user="$(id -un)" >/dev/null 2>&1 || true
fi
for pf in "$state/slurmd.pid" "$state/slurmctld.pid" "$state/munge/munged.pid"; do
    [ -f "$pf" ] || continue
    pid=$(cat "$pf" 2>/dev/null || true)
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
done
rm -rf "$state"
