#!/usr/bin/env bash
# The GPU check that a session with a device machine runs (DEVELOPERS.md: the test suite and
# benchmarks/run.py at N = 1e6 and 1e7), prepared so that it fits one call of the device
# tool. Two steps:
#
#   bash benchmarks/gpu.sh fetch     # here, once: the wheels the device lacks, into .whl/
#   bash benchmarks/gpu.sh device    # on the device (carry .whl), logs into $OUT
#
# The device image (/work/.library/device/KINDS.md) has Python 3.12 with jax and its CUDA 13
# plugin, h5py, typer, rich, pyyaml, sympy, matplotlib, scipy, hypothesis, mpmath and
# pytest, but neither pydantic nor pint: "fetch" downloads those (and what they need) as
# cp312 manylinux wheels. Nothing can be fetched there, so ".[cuda12]" is not installed:
# the image's own jax (CUDA 13) is used. The benchmarks run first (the figures matter most),
# then the test suite on the GPU, each under a timeout that keeps the call within the
# device tool's 10 minutes; GPU_SMOKE=1 runs the same steps briefly (here, on the CPU).
set -uo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
fetch)
    grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
    rm -rf .whl && mkdir -p .whl
    platforms=()
    for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 \
             manylinux2014_x86_64 manylinux1_x86_64; do
        platforms+=(--platform "$p")
    done
    # the versions this machine's tests pass with (pip list here)
    for req in pydantic pydantic_core annotated_types typing_inspection typing_extensions \
               pint flexcache flexparser platformdirs; do
        version=$(python3 -m pip show "$req" 2>/dev/null | sed -n 's/^Version: //p')
        python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
            --implementation cp "${platforms[@]}" -d .whl "$req${version:+==$version}" \
            || exit 1
    done
    ls -l .whl
    ;;
device)
    OUT=${OUT:-/tmp/gpu_out}
    mkdir -p "$OUT"
    if [ -d .whl ]; then
        python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
            --upgrade --target /tmp/site .whl/*.whl || exit 1
        export PYTHONPATH=/tmp/site:$PWD
    else
        export PYTHONPATH=$PWD
    fi
    export PYTHONUNBUFFERED=1
    {
        nvidia-smi -L || true
        python3 -c "import jax, spikesim; print('jax', jax.__version__, jax.devices())"
    } 2>&1 | tee "$OUT/env.log"
    if [ "${GPU_SMOKE:-0}" = 1 ]; then
        sizes=(1000); steps=(--steps 200); tests=(tests/test_spike_timing.py -k closed_form)
        t_bench=300; t_tests=300
    else
        sizes=(1000000 10000000); steps=(); tests=(tests)
        t_bench=210; t_tests=250
    fi
    # grid: spikesim against the hand-written scan; then what precise timing costs there
    timeout "$t_bench" python3 benchmarks/run.py --n "${sizes[@]}" --workloads W1a W2 W3 \
        --repeats 2 2>&1 | tee "$OUT/bench.log"
    timeout 100 python3 benchmarks/run.py --precise --n "${sizes[0]}" \
        --workloads W1a W2 W3 W2h W3h --repeats 2 "${steps[@]}" 2>&1 | tee "$OUT/precise.log"
    timeout "$t_tests" python3 -m pytest -q -p no:cacheprovider "${tests[@]}" 2>&1 \
        | tee "$OUT/pytest.log" | tail -40
    ;;
*)
    sed -n '2,15p' "$0"
    exit 2
    ;;
esac
