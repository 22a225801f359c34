#!/usr/bin/env bash
# Downloads, into .whl/, the wheels that irondog's GPU path imports and a lent GPU machine
# lacks (it runs CPython 3.12 with jax 0.11.2 and the CUDA 13 plugins, flax, optax, msgpack,
# scipy, absl-py, etils, pyyaml, psutil, tqdm, protobuf, ... already; it reaches no registry).
# Prints each wheel's size and the total, which travels with the working tree (64 MiB a call).
#
#   bash benchmarks/gpu_wheels.sh           # the set gpu_check.sh needs, about 24 MB
#   bash benchmarks/gpu_wheels.sh --warp    # also warp-lang, split into .whl_warp/ parts
#
# The set, each resolved from the Requires-Dist of the wheels here:
#   mujoco 4.0.0         needs mujoco-core ==4.0.0, glfw, pyopengl, numpy (and mujoco-studio,
#                        the web viewer, left out: 13 MB that nothing on this path imports)
#   mujoco-mjx 3.17.0    needs absl-py, etils[epath], jax, jaxlib, scipy, trimesh; no jax pin,
#                        so the machine's jax 0.11.2 stays; its warp extra pins warp-lang 1.18.0
#   mujoco-warp 4.0.0    the version of mujoco; needs warp-lang >=1.15, etils, absl-py
#   tensorboardX 2.6.5   irondog train's event files (needs protobuf, there already)
# warp-lang 1.18.0 is a 149 MB wheel (warp.so alone is 298 MB unpacked), more than one call
# can carry: --warp splits it into parts under .whl_warp/, one part per call (see README).
set -euo pipefail
cd "$(dirname "$0")/.."

WHEELS=(
  mujoco==4.0.0
  mujoco-core==4.0.0
  mujoco-mjx==3.17.0
  mujoco-warp==4.0.0
  glfw==2.11.0
  pyopengl==3.1.10
  trimesh==5.2.0
  tensorboardX==2.6.5
)
WARP=warp-lang==1.18.0
PART_SIZE=40M  # with the tree (about 15 MiB) and the last part with .whl/, under 64 MiB a call

PLATFORMS=()
for tag in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 \
  manylinux2014_x86_64 manylinux1_x86_64; do
  PLATFORMS+=(--platform "$tag")
done

download() {  # download DIR SPEC...
  local dir=$1
  shift
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp "${PLATFORMS[@]}" -d "$dir" "$@"
}

exclude="$(git rev-parse --git-path info/exclude)"
for pattern in /.whl/ /.whl_warp/; do
  grep -qxF "$pattern" "$exclude" 2>/dev/null || echo "$pattern" >>"$exclude"
done

rm -rf .whl
mkdir -p .whl
download .whl "${WHEELS[@]}"

if [ "${1:-}" = "--warp" ]; then
  # One folder per part, .whl_warp/p00, p01, ...: each call carries one and copies it to
  # /tmp/warp on the (warm) device; the last call joins them and checks WHEEL.sha256.
  rm -rf .whl_warp /tmp/irondog-warp-wheel
  mkdir -p .whl_warp
  download /tmp/irondog-warp-wheel "$WARP"
  wheel=$(ls /tmp/irondog-warp-wheel/warp_lang-*.whl)
  name=$(basename "$wheel")
  split -b "$PART_SIZE" -d "$wheel" ".whl_warp/$name.part"
  for part in .whl_warp/"$name".part*; do
    dir=.whl_warp/p${part##*.part}
    mkdir -p "$dir"
    mv "$part" "$dir/"
  done
  (cd /tmp/irondog-warp-wheel && sha256sum "$name") >.whl_warp/p00/WHEEL.sha256
  du -b .whl_warp/p*/* | awk '{printf "%10.1f MB  %s\n", $1 / 1e6, $2}'
fi

du -b .whl/*.whl | awk '{printf "%10.1f MB  %s\n", $1 / 1e6, $2; total += $1}
  END {printf "%10.1f MB  in all (%.1f MiB)\n", total / 1e6, total / 2^20}'
count=$(ls .whl/*.whl | wc -l)
if [ "$count" -ne "${#WHEELS[@]}" ]; then
  echo "gpu_wheels.sh: expected ${#WHEELS[@]} wheels in .whl/, found $count" >&2
  exit 1
fi
