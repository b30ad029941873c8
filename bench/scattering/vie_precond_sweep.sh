#!/usr/bin/env bash
# GMRES iterations and CPU-seconds of the VIE vs metal σ and electrical size, per right preconditioner
# (issue 14). One car (seed 1) at range 3 m, 2 + 2 cross array, 1 tone, tolerance 1e-3, GMRES(RESTART, default 100), λ/6 pitch (the
# preset) unless PITCH_DIV is set. CSV on stdout: scale,sigma,precond,edge,voxels,iterations,residual,cpu_s
#   bench/scattering/vie_precond_sweep.sh [isac-binary] > bench/scattering/results/vie_precond.csv
set -euo pipefail
ISAC=${1:-.build/release/isac}
SIGMAS=${SIGMAS:-"1 2 4 6 1000"}
SCALES=${SCALES:-"0.1"}
PRECS=${PRECS:-"jacobi block:2 block:3"}
MAXIT=${MAXIT:-3000}
RESTART=${RESTART:-100}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "scale,sigma,precond,edge,voxels,iterations,residual,cpu_s"
for sc in $SCALES; do for s in $SIGMAS; do for p in $PRECS; do
  name=${p%%:*}; edge=${p#*:}; [ "$edge" = "$p" ] && edge=2
  /usr/bin/time -f "%U %S" -o "$tmp/t" "$ISAC" scatter channel --target car --solver vie --seed 1 --range-m 3 \
    --antennas 2 --subcarriers 1 --target-scale "$sc" --metal-sigma "$s" --vie-tolerance 1e-3 --gmres-restart "$RESTART" \
    --max-iterations "$MAXIT" --vie-preconditioner "$name" --vie-block-edge "$edge" --out "$tmp/H.npy" --json \
    > "$tmp/o.json" 2> "$tmp/e" || { echo "$sc,$s,$name,$edge,,FAILED,,"; continue; }
  cpu=$(awk '{print $1 + $2}' "$tmp/t")
  python3 -c "import json,sys; o=json.load(open('$tmp/o.json')); v=o['vie'][0]; print(f\"$sc,$s,$name,$edge,{o['voxels']},{v['maxIterations']},{v['maxRelativeResidual']:.2e},$cpu\")"
done; done; done
