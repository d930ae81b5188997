#!/usr/bin/env bash
# Build the hand-vectorised HH ceiling into /tmp and run it (W1a, 10,000 steps, float32).
# Usage: benchmarks/c_ceiling/run.sh [N ...]     (default: 1000 10000 100000)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mktemp -d /tmp/spikesim_c_ceiling.XXXXXX)"
trap 'rm -rf "$out"' EXIT
CFLAGS="-O3 -march=native -ffast-math -fopenmp"
gcc $CFLAGS "$here/hh.c" -o "$out/hh_tiled" -lm                # time loop inside neuron tiles
gcc $CFLAGS -DTIME_OUTER "$here/hh.c" -o "$out/hh_time_outer" -lm  # JAX's loop order
sizes=("${@:-1000 10000 100000}")
for n in ${sizes[@]}; do
  for variant in hh_tiled hh_time_outer; do
    for t in 1 2; do
      printf '%-14s ' "$variant"; OMP_NUM_THREADS=$t OMP_PROC_BIND=true "$out/$variant" "$n" 10000 5
    done
  done
done
