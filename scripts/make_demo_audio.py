"""Rebuild the demo speech in assets/ with Debian's espeak-ng (synthetic voice, known transcript).

    python scripts/make_demo_audio.py
"""

from __future__ import annotations

import subprocess
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"
TRANSCRIPT = ("Please bring me the map of the old harbour. "
              "Oh, what a wonderful morning it was, and we simply loved every moment.")
VOICE = "en-us+f2"  # pocketsphinx aligns this voice reliably (see shared data notes)


def main() -> None:
    wav = ASSETS / "demo_speech.wav"
    subprocess.run(["espeak-ng", "-v", VOICE, "-s", "150", "-p", "55", "-w", str(wav), TRANSCRIPT], check=True)
    (ASSETS / "demo_speech.txt").write_text(TRANSCRIPT + "\n", encoding="utf-8")
    print(f"wrote {wav}")


if __name__ == "__main__":
    main()
