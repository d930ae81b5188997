#!/usr/bin/env bash
# A parameter scan the shell way: one run per potassium conductance, each into its own file.
# The output path template fills in the overridden value, so no -o is needed:
#   outputs/hh_step_gK30.h5, outputs/hh_step_gK36.h5, outputs/hh_step_gK42.h5
# Extra arguments are passed on to every run, e.g.  configs/sweep_gk.sh simulation.duration=50
# (spikesim run ... model.params.g_K=[30,36,42] or a sweep: section does it in one compiled run.)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for g in 30 36 42; do
  spikesim run "$here/hh_step.yaml" "model.params.g_K=$g" \
    'output.path=outputs/{name}_gK{model.params.g_K}.h5' --force -q "$@"
done
