#!/usr/bin/env bash
# CI check of `isac cluster slurm` on a real single-node Slurm (docs/cluster.md):
#   1. starts munged + slurmctld + slurmd on localhost (scripts/slurm/start.sh, installs slurm-wlm munge if missing);
#   2. submits a 4-task array + dependent merge of `dataset generate --preset small`, of a small
#      `multitarget evaluate`, `multitarget pfa-sweep`, `multitarget tradeoff` and `multitarget train-sweep`
#      (2 seeds x 2 learning rates), through `isac cluster slurm`, and waits;
#   3. runs the same commands in one process and checks the results are byte-identical
#      (dataset: manifest.json and every chunk file; evaluate, pfa-sweep: the --json object, timing fields removed;
#      tradeoff: the --out folder; train-sweep: train_sweep.csv);
#   4. stops Slurm and removes every temporary file (trap), whatever happened.
# Usage: scripts/slurm/ci-slurm.sh [ISAC_BINARY]   (default .build/release/isac). Root required (slurmd).
set -euo pipefail
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then exec sudo -E "$0" "$@"; fi
cd "$(dirname "$0")/../.."
repo=$(pwd)
isac=$(realpath "${1:-.build/release/isac}")
[ -x "$isac" ] || { echo "ci-slurm: no isac binary at $isac (build it: swift build -c release --product isac)" >&2; exit 1; }

state=$(mktemp -d /tmp/isac-slurm-state.XXXXXX)
work=$(mktemp -d /tmp/isac-slurm-work.XXXXXX)
cleanup() { "$repo/scripts/slurm/stop.sh" "$state"; rm -rf "$work"; }
trap cleanup EXIT
t0=$(date +%s)
eval "$("$repo/scripts/slurm/start.sh" "$state")"
echo "ci-slurm: single-node Slurm up in $(( $(date +%s) - t0 )) s ($(sinfo -h -o '%P %D nodes %c cpus %T'))"
cd "$work"

ev=(multitarget evaluate --antennas 16 --subcarriers 32 --n-theta 64 --n-tau 32 --impairments unknown,known
    --samples 200 --calibration-samples 200 --seed 11 --quiet)
ds=(dataset generate --preset small --seed 5 --quiet)
pf=(multitarget pfa-sweep --antennas 16 --subcarriers 32 --n-theta 64 --n-tau 32 --impairments unknown
    --pfa-values 0.01,0.1 --samples 100 --calibration-samples 120 --seed 3 --quiet)
tr=(multitarget tradeoff --antennas 16 --subcarriers 32 --n-theta 64 --n-tau 32 --impairments unknown --etas 3
    --samples 40 --calibration-samples 48 --seed 9 --quiet)
sw=(multitarget train-sweep --seeds 1,2 --lrs 1e-3,3e-4 --quiet -- --antennas 8 --subcarriers 16 --n-theta 32 --n-tau 16
    --steps 3 --batch 2 --test-samples 4)

t1=$(date +%s)
"$isac" cluster slurm --tasks 4 --dir "$work/ds-job" --json -- "${ds[@]}" --out "$work/ds-sharded" > ds-submit.json
"$isac" cluster slurm --tasks 4 --dir "$work/ev-job" --json -- "${ev[@]}" > ev-submit.json
"$isac" cluster slurm --tasks 4 --dir "$work/pf-job" --json -- "${pf[@]}" > pf-submit.json
"$isac" cluster slurm --tasks 4 --dir "$work/tr-job" --json -- "${tr[@]}" --out "$work/tr-sharded" > tr-submit.json
# (--out goes before the train flags' `--`)
"$isac" cluster slurm --tasks 4 --dir "$work/sw-job" --json -- "${sw[@]:0:7}" --out "$work/sw-sharded" "${sw[@]:7}" > sw-submit.json
# The one-line JSON answer of `isac cluster slurm --json` (sorted keys, no spaces): pick a job id.
job() { sed -nE "s/.*\"$2\":\"([0-9]+)\".*/\1/p" "$1"; }
ids=""
for f in ds ev pf tr sw; do ids="$ids$(job $f-submit.json array_job_id),$(job $f-submit.json merge_job_id),"; done
ids=${ids%,}
echo "ci-slurm: submitted jobs $ids"
for _ in $(seq 600); do
    [ -z "$(squeue -h -j "$ids" 2>/dev/null)" ] && break
    sleep 1
done
[ -z "$(squeue -h -j "$ids" 2>/dev/null)" ] || { echo "ci-slurm: jobs still queued after 600 s" >&2; squeue >&2; exit 1; }
t2=$(date +%s)
status=0
for m in "$(job ds-submit.json merge_job_id)" "$(job ev-submit.json merge_job_id)" "$(job pf-submit.json merge_job_id)" "$(job tr-submit.json merge_job_id)" "$(job sw-submit.json merge_job_id)"; do
    st=$(scontrol show job "$m" -o | grep -o 'JobState=[A-Z_]*' | head -1)
    echo "ci-slurm: merge job $m $st"
    [ "$st" = "JobState=COMPLETED" ] || status=1
done
if [ $status -ne 0 ]; then
    echo "ci-slurm: a job failed; logs:" >&2
    tail -n 20 "$work"/*/logs/* >&2 || true
    exit 1
fi
echo "ci-slurm: 5 arrays of 4 tasks + 5 merges done in $(( t2 - t1 )) s"

# The same two commands in one process.
"$isac" "${ds[@]}" --out "$work/ds-single" > /dev/null
"$isac" "${ev[@]}" --json > ev-single.json
"$isac" "${pf[@]}" --json > pf-single.json
"$isac" "${tr[@]}" --out "$work/tr-single" > /dev/null
"$isac" "${sw[@]:0:7}" --out "$work/sw-single" "${sw[@]:7}" > /dev/null
cmp "$work/ds-sharded/manifest.json" "$work/ds-single/manifest.json"
diff -r "$work/ds-sharded/chunks" "$work/ds-single/chunks"
strip() { sed -E 's/"(method_run_time_s|run_time_s|samples_per_s)":[^,}]*,?//g' "$1"; }
cmp <(strip ev-single.json) <(strip "$work/ev-job/merged.json")
cmp <(strip pf-single.json) <(strip "$work/pf-job/merged.json")
diff -r "$work/tr-single" "$work/tr-sharded"
cmp "$work/sw-single/train_sweep.csv" "$work/sw-sharded/train_sweep.csv"
echo "ci-slurm: OK: sharded dataset ($(ls "$work/ds-single/chunks" | wc -l) files), evaluate and pfa-sweep JSON, the tradeoff folder and the train-sweep table are byte-identical to one process ($(( $(date +%s) - t0 )) s in all)"
