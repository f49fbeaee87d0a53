#!/usr/bin/env bash
# Idempotent set-up: Debian packages, then a Python 3.11 environment with the model process,
# Blender 5.0 (bpy) and the test tools, and one environment for each other tested Blender.
# Re-running skips whatever is already in place.
#   AVI_VENV   where the environment lives (default: .venv in the repo)
set -euo pipefail
cd "$(dirname "$0")/.."

# Real recordings for tests and the real-speech evaluation: alsa-utils, klettres-data, Asterisk's English
# prompts (G.722, decoded with ffmpeg) and the same prompts in fr/es/it/ru, pocketsphinx-testdata's LibriVox
# sentences. espeak-ng also gives other languages their phonemes (model_server/audio/espeak.py).
apt_packages=(espeak-ng sox alsa-utils libsndfile1 fortunes klettres-data
              asterisk-core-sounds-en-g722 pocketsphinx-testdata ffmpeg
              asterisk-core-sounds-fr-g722 asterisk-core-sounds-es-g722 asterisk-core-sounds-it-g722
              asterisk-core-sounds-ru-g722)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

venv="${AVI_VENV:-.venv}"
python="${AVI_PYTHON:-python3.11}"
command -v "$python" >/dev/null || python=python3
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"

# Reinstall only when the requirements change (bpy alone is a few hundred MB).
stamp="$venv/.requirements.sha256"
want=$(cat requirements.txt requirements-dev.txt requirements-no-deps.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -r requirements-dev.txt
  "$venv/bin/pip" install -q --no-deps -r requirements-no-deps.txt
  echo "$want" > "$stamp"
fi
# Each tested Blender beside it, as a Python module in an environment of its own with the tests' few
# packages (requirements-blender-tests.txt); their tests run the model process from the main environment.
# 4.2 LTS has no audio in its wheel; 5.3 (like 5.1 and 5.2 LTS) embeds Python 3.13.
python_3_13() {
  local found
  for found in "${AVI_PYTHON_3_13:-}" "$(command -v python3.13 || true)" "$(pyenv root 2>/dev/null)"/versions/3.13*/bin/python3.13; do
    [ -n "$found" ] && "$found" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { echo "$found"; return; }
  done
  echo "Blender 5.3 needs Python 3.13: install it (pyenv install 3.13, or Debian's python3.13) or set AVI_PYTHON_3_13" >&2
  return 1
}
for blender in 4.2 4.5 5.3; do
  env_dir="${venv}-blender-${blender}"
  requirements="requirements-blender-${blender}.txt"
  if [ ! -x "$env_dir/bin/python" ]; then
    maker="$python"
    [ "$blender" != 5.3 ] || maker=$(python_3_13)
    "$maker" -m venv "$env_dir"
  fi
  want_blender=$(cat "$requirements" requirements-blender-tests.txt | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$env_dir/.requirements.sha256" 2>/dev/null)" != "$want_blender" ]; then
    "$env_dir/bin/pip" install -q --only-binary :all: -r "$requirements"
    echo "$want_blender" > "$env_dir/.requirements.sha256"
  fi
done
echo "environment ready: $venv (and Blender ${venv}-blender-{4.2,4.5,5.3})"
