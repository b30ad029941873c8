#!/usr/bin/env bash
# Steady-state CPU per sample of the multi-target baseline receiver, ISACKit vs the official PyTorch code, in ONE run
# (same machine, same load window, same OPENBLAS_CORETYPE setting), for the >= 10x target of issue 19.
#
#   bench/multitarget/bench_steady.sh OFFICIAL_REPO_DIR ISAC_BINARY [OUT_DIR] [N1 N2] [BATCH]
#
# ISACKit: `isac multitarget evaluate --preset official-code --array-positions P --impairments unknown --eta 1` at
# N1 and N2 samples, pinned to one core (`taskset -c 0`), 1-thread BLAS; steady = (cpu(N2) - cpu(N1)) / (N2 - N1),
# CPU = user + sys of the process (`/usr/bin/time -f`). Official: bench/multitarget/official_bench.py with 1 torch
# thread, batch BATCH (default 100), 1 and 3 batches, fixed threshold (see its docstring). Both peers run with
# OPENBLAS_CORETYPE unset (`env -u`), so each picks its own BLAS kernels (isac re-launches with SkylakeX here).
# The two sides are interleaved: isac N1, isac N2, official, isac N1, isac N2 (the mean of the two isac runs is used).
set -euo pipefail
repo=${1:?official repo dir}; isac=${2:?isac binary}; out=${3:-/tmp/mtbench_steady}; n1=${4:-100}; n2=${5:-400}
batch=${6:-100}
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-/work/venv/bin/python}
mkdir -p "$out"
[ -f "$out/official_positions.npy" ] || "$py" "$here/official_positions.py" "$repo" "$out/official_positions.npy" >/dev/null
run_isac() {  # $1 = samples, $2 = tag
  env -u OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/time -f '%U %S %e' -o "$out/time_$2" \
    taskset -c 0 "$isac" multitarget evaluate --preset official-code --array-positions "$out/official_positions.npy" \
    --impairments unknown --eta 1 --samples "$1" --quiet --json > "$out/isac_$2.json"
  read -r u s e < "$out/time_$2"; echo "$(echo "$u + $s" | bc -l) $e"
}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
a1=$(run_isac "$n1" a1); a2=$(run_isac "$n2" a2)
env -u OPENBLAS_CORETYPE OMP_NUM_THREADS=1 "$py" "$here/official_bench.py" "$repo" 1 3 1.0 1 fixed "$batch" > "$out/official.out"
tail -n 1 "$out/official.out" > "$out/official.json"      # it prints its progress lines on stdout first
b1=$(run_isac "$n1" b1); b2=$(run_isac "$n2" b2)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
"$py" - "$out" "$n1" "$n2" "$a1" "$a2" "$b1" "$b2" <<'EOF'
import json, sys
out, n1, n2 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cpu = [float(x.split()[0]) for x in sys.argv[4:8]]
o = json.load(open(f"{out}/official.json"))
sa = (cpu[1] - cpu[0]) / (n2 - n1) * 1e3; sb = (cpu[3] - cpu[2]) / (n2 - n1) * 1e3
s = (sa + sb) / 2
print(json.dumps({"isac_cpu_s": {"a_n1": cpu[0], "a_n2": cpu[1], "b_n1": cpu[2], "b_n2": cpu[3]},
                  "isac_steady_cpu_ms": [round(sa, 3), round(sb, 3)], "isac_steady_cpu_ms_mean": round(s, 3),
                  "official_cpu_s": [o["cpu_s_n1"], o["cpu_s_n2"]], "official_batch": o["batch_size"],
                  "official_steady_cpu_ms": round(o["steady_cpu_ms_per_sample"], 3),
                  "ratio": round(o["steady_cpu_ms_per_sample"] / s, 2)}, indent=1))
EOF
