#!/bin/sh
# Cost of one full-size paper sample (64 × 64 cross array, K = 16, full-size car / motorbike at 12 m) with the po and
# hybrid solvers, next to the machine's zgemm rate measured in the same run.
# Usage: bench/po/bench_po_sample.sh [isac-binary] [solvers] [targets]
#   defaults: .build/release/isac, "po hybrid", "car motorbike".
# OpenBLAS picks its kernels itself (OPENBLAS_CORETYPE unset, as in docs/BENCHMARKS.md "OpenBLAS kernel choice"):
# set KEEP_CORETYPE=1 to keep the caller's OPENBLAS_CORETYPE instead.
set -e
ISAC=${1:-.build/release/isac}
SOLVERS=${2:-po hybrid}
TARGETS=${3:-car motorbike}
[ -n "$KEEP_CORETYPE" ] || unset OPENBLAS_CORETYPE
OUT=${TMPDIR:-/tmp}/po_bench_$$
mkdir -p "$OUT"
echo "== OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}; load: $(cut -d' ' -f1-3 /proc/loadavg) =="
echo "== zgemm / dgemm rates (isac bench foundation --quick) =="
"$ISAC" bench foundation --quick --repeats 3 --json
for target in $TARGETS; do
  for solver in $SOLVERS; do
    echo "== $target $solver (load $(cut -d' ' -f1 /proc/loadavg)) =="
    /usr/bin/time -f "wall %e s, user %U s, sys %S s, max RSS %M kB" \
      "$ISAC" scatter channel --solver $solver --target $target --range-m 12 --heading-deg 30 --azimuth-deg 10 \
      --out "$OUT/H_${target}_$solver.npy" --json
    sha256sum "$OUT/H_${target}_$solver.npy"
  done
done
echo "== zgemm / dgemm rates again =="
"$ISAC" bench foundation --quick --repeats 3 --json
rm -rf "$OUT"
