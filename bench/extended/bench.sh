#!/bin/bash
# Extended-target benchmarks: classical references and training throughput on a dataset folder.
# Usage: bench/extended/bench.sh DATASET_DIR [ISAC_BINARY]
# Prints wall times (and runs the NumPy matched-filter counterpart when numpy is present); the machine line comes from lscpu. Run after `swift build -c release --product isac`.
set -euo pipefail
DATA=${1:?dataset folder (e.g. OUT/dataset from isac extended experiment)}
ISAC=${2:-.build/release/isac}
echo "machine: $(lscpu | grep 'Model name' | sed 's/ \+/ /g'), $(nproc) cores"
TMP=$(mktemp -d)
t0=$(date +%s.%N)
$ISAC extended evaluate --data "$DATA" --classical --json > "$TMP/classical.json"
t1=$(date +%s.%N)
echo "classical references (FFT periodogram + NF matched filter, test split, all tones): $(echo "$t1 - $t0" | bc) s"
cat "$TMP/classical.json"; echo
if python3 -c 'import numpy' 2>/dev/null; then
  echo "NumPy counterpart (near-field matched filter, same grid, same test split):"
  python3 "$(dirname "$0")/matched_filter_numpy.py" "$DATA"
fi
for m in shared-mtl proposed-full; do
  t0=$(date +%s.%N)
  $ISAC extended train --data "$DATA" --method $m --epochs 3 --batch-size 16 --lr 1e-3 --out "$TMP/$m" --quiet --json > /dev/null
  t1=$(date +%s.%N)
  echo "train $m, 3 epochs (small network): $(echo "$t1 - $t0" | bc) s"
done
rm -rf "$TMP"
