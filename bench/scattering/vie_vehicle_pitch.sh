#!/usr/bin/env bash
# Pitch convergence of the VIE channel of one vehicle (issue 14): the 0.1-scale car of the VIE `small` preset geometry
# (16 + 16 cross array, 4 tones, range 10 m broadside), metal σ fixed, its shells sized from a FIXED feature pitch
# (FEATURE m, default λ/6 = the preset pitch, so every run sees the same vehicle), solved at pitch λ/N for each N in NS,
# each voxelization in VOXS and each discretization in DISCS; channels saved as OUT/H_<disc>_<vox>_<N>.npy, CPU-s and
# GMRES iterations in OUT/log.csv. Then `python3 bench/scattering/vie_vehicle_pitch.py OUT` prints the error of
# each against the finest weighted fcd run (or the finest fcd run).
#   NS="6 8 10 12" VOXS="staircase weighted" DISCS="default" SEED=1 SIGMA=4 bench/scattering/vie_vehicle_pitch.sh [isac] OUT
set -euo pipefail
ISAC=${1:-.build/release/isac}; OUT=${2:?output folder}
NS=${NS:-"6 8 10 12"}; DISCS=${DISCS:-"default"}; VOXS=${VOXS:-"staircase weighted"}; SEED=${SEED:-1}; SIGMA=${SIGMA:-4}; TARGET=${TARGET:-car}
mkdir -p "$OUT"
[ -f "$OUT/log.csv" ] || echo "target,seed,sigma,n_per_lambda,disc,voxelization,feature_m,pitch_m,voxels,boundary_voxels,max_gmres_it,cpu_s" > "$OUT/log.csv"
# λ at the highest of the 4 subcarriers (fc 4.9 GHz, Δf 20 MHz, centred grid as in `SensingArray.cross`).
fmax=$(python3 -c "print(4.9e9 + 1.5 * 20e6)")
FEATURE=${FEATURE:-$(python3 -c "print(299792458.0 / $fmax / 6)")}
for n in $NS; do
  for d in $DISCS; do for v in $VOXS; do
    f="$OUT/H_${d}_${v}_${n}.npy"; [ -f "$f" ] && continue
    pitch=$(python3 -c "print(299792458.0 / $fmax / $n)")
    /usr/bin/time -f "%U %S" -o "$OUT/t" "$ISAC" scatter channel --target "$TARGET" --solver vie --seed "$SEED" --range-m 10 \
      --antennas 16 --subcarriers 4 --target-scale 0.1 --vie-tolerance 1e-3 --metal-sigma "$SIGMA" --voxel-pitch "$pitch" \
      --vie-discretization "$d" --voxelization "$v" --feature-pitch "$FEATURE" --out "$f" --json > "$OUT/o.json" 2> "$OUT/e_${d}_${v}_${n}.log"
    python3 - "$OUT" "$TARGET" "$SEED" "$SIGMA" "$n" "$d" "$v" "$FEATURE" "$pitch" <<'PY'
import json, sys
out, tgt, seed, sig, n, d, v, feat, pitch = sys.argv[1:]
o = json.load(open(f"{out}/o.json")); u, s = map(float, open(f"{out}/t").read().split())
it = o.get("gmresMaxIterations", "")
print(f"{tgt},{seed},{sig},{n},{d},{v},{float(feat):.6g},{float(pitch):.6g},{o['voxels']},{o.get('boundaryVoxels', 0)},{it},{u + s:.1f}",
      file=open(f"{out}/log.csv", "a"))
PY
    tail -1 "$OUT/log.csv" >&2
  done; done
done
