#!/usr/bin/env bash
# Per-instance change of the VIE channel from the old point-matched default to fcd (issue 14), at the geometry of the
# VIE `small` preset (16 + 16 cross array, 4 tones, 0.1-scale vehicles, λ/6 pitch, tolerance 1e-3): for each car seed,
# ‖H_fcd − H_point‖_F/‖H_point‖_F and ‖H_fcd‖/‖H_point‖. CSV on stdout: seed,range_m,voxels,rel_change,norm_ratio,cpu_s
#   SEEDS="1 2 3 4" bench/scattering/vie_small_fcd_vs_point.sh [isac-binary]
set -euo pipefail
ISAC=${1:-.build/release/isac}
SEEDS=${SEEDS:-"1 2 3 4"}
RANGE=${RANGE:-10}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "seed,range_m,voxels,rel_change,norm_ratio,cpu_s"
for s in $SEEDS; do
  for d in point default; do
    /usr/bin/time -f "%U %S" -o "$tmp/t_$d" "$ISAC" scatter channel --target car --solver vie --seed "$s" --range-m "$RANGE" \
      --antennas 16 --subcarriers 4 --target-scale 0.1 --vie-tolerance 1e-3 --vie-discretization "$d" \
      --out "$tmp/H_$d.npy" --json > "$tmp/o_$d.json" 2> "$tmp/e_$d" || { echo "$s,$RANGE,,FAILED_$d,,"; continue 2; }
  done
  cpu=$(cat "$tmp/t_point" "$tmp/t_default" | awk '{c += $1 + $2} END {print c}')
  python3 - "$tmp" "$s" "$RANGE" "$cpu" <<'PY'
import json, sys, numpy as np
tmp, s, r, cpu = sys.argv[1:]
a = np.load(f"{tmp}/H_default.npy").astype(np.complex128); b = np.load(f"{tmp}/H_point.npy").astype(np.complex128)
o = json.load(open(f"{tmp}/o_default.json"))
print(f"{s},{r},{o['voxels']},{np.linalg.norm(a - b) / np.linalg.norm(b):.4f},{np.linalg.norm(a) / np.linalg.norm(b):.4f},{cpu}")
PY
done
