#!/usr/bin/env bash
# Idempotent set-up: Debian packages, then a Python 3.11 environment with the model process,
# Blender (bpy) and the test tools. Re-running skips whatever is already in place.
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
# Blender 4.2 LTS beside it: the add-on must keep working there (tests/avi_talking_blender/test_blender_4_2.py).
lts="${venv}-blender-4.2"
[ -x "$lts/bin/python" ] || "$python" -m venv "$lts"
want_lts=$(sha256sum requirements-blender-4.2.txt | cut -d' ' -f1)
if [ "$(cat "$lts/.requirements.sha256" 2>/dev/null)" != "$want_lts" ]; then
  "$lts/bin/pip" install -q -r requirements-blender-4.2.txt
  echo "$want_lts" > "$lts/.requirements.sha256"
fi
echo "environment ready: $venv (and $lts)"
