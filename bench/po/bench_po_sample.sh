#!/bin/sh
# Cost of one full-size paper sample (64 × 64 cross array, K = 16, full-size car at 12 m) with the po and hybrid
# solvers, next to the machine's zgemm rate measured in the same run. Usage: bench/po/bench_po_sample.sh [isac-binary]
set -e
ISAC=${1:-.build/release/isac}
OUT=${TMPDIR:-/tmp}/po_bench_$$
mkdir -p "$OUT"
echo "== zgemm / dgemm rates (isac bench foundation --quick) =="
"$ISAC" bench foundation --quick --repeats 3 --json
for solver in po hybrid; do
  echo "== $solver =="
  /usr/bin/time -f "wall %e s, user %U s, sys %S s, max RSS %M kB" \
    "$ISAC" scatter channel --solver $solver --target car --range-m 12 --heading-deg 30 --azimuth-deg 10 \
    --out "$OUT/H_$solver.npy" --json
done
echo "== zgemm / dgemm rates again =="
"$ISAC" bench foundation --quick --repeats 3 --json
rm -rf "$OUT"
