#!/usr/bin/env bash
# The GPU path measured in one run (benchmarks/gpu_check.py says what and how): versions, MJX
# impl=jax and impl=warp steps/s at 8,192 and 32,768 simulations, a short joystick training,
# peak GPU memory. Writes gpu_check.json, gpu_check.md and gpu_check.log under --out DIR,
# else $OUT, else runs/gpu_check.
#
#   bash benchmarks/gpu_check.sh             # on one H100/H200: about 6 minutes, at most 8
#   bash benchmarks/gpu_check.sh --smoke     # tiny sizes on the CPU, to check it still runs
#
# PYTHON picks the interpreter (default: python3 on the PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-python3}" benchmarks/gpu_check.py "$@"
