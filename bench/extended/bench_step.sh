#!/bin/bash
# Training-step time, Swift vs PyTorch CPU, both models, 1 and 2 threads, interleaved in one run.
# Usage: bench/extended/bench_step.sh [ISAC_BINARY] [PYTHON]   (release build; PYTHON with torch, e.g. .venv/bin/python)
# Models: ConvAttentionNet (bench/learning/torch_bench.py twin, batch 16) and the real JointNetwork at the paper
# input size (B = 32 samples × K = 16 tones of 2 × 64 × 64, dual branch + CTA, physics loss; twin:
# bench/extended/torch_joint.py --bench). One JSON line per measurement on stdout; wall and CPU time from /usr/bin/time.
set -euo pipefail
ISAC=${1:-.build/release/isac}
PY=${2:-.venv/bin/python}
HERE=$(dirname "$0")
STEPS=${STEPS:-5}
MODELS=${MODELS:-"conv joint"}   # e.g. MODELS=conv: only ConvAttentionNet (the joint model is ~60 CPU-s per thread count)
THREADS=${THREADS:-"1 2"}
echo "machine: $(lscpu | grep 'Model name' | sed 's/ \+/ /g'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
run() {  # label, command...
  local label=$1; shift
  local out
  out=$( { /usr/bin/time -f '%e %U %S %R' "$@" 2>/tmp/bench_step_err.$$ ; } ) || { echo "{\"run\": \"$label\", \"failed\": true}"; return; }
  local t; t=$(tail -1 /tmp/bench_step_err.$$)
  echo "{\"run\": \"$label\", \"time_wall_user_sys_minflt\": \"$t\", \"load\": \"$(cut -d' ' -f1 /proc/loadavg)\", \"result\": $out}"
}
for th in $THREADS; do
  if [[ " $MODELS " == *" conv "* ]]; then
    run "swift conv t$th" "$ISAC" bench learning --model conv --batch 16 --steps "$STEPS" --warmup 1 --threads "$th" --json
    run "torch conv t$th" "$PY" bench/learning/torch_bench.py --batch 16 --steps "$STEPS" --warmup 1 --threads "$th" --json
  fi
  if [[ " $MODELS " == *" joint "* ]]; then
    run "swift joint t$th" "$ISAC" bench learning --model joint --batch 32 --steps "$STEPS" --warmup 1 --threads "$th" --json
    run "torch joint t$th" "$PY" "$HERE/torch_joint.py" --bench --batch 32 --steps "$STEPS" --warmup 1 --threads "$th"
  fi
done
rm -f /tmp/bench_step_err.$$
