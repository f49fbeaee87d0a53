"""Recordings of people with their transcripts, from Debian packages: what the product is judged by.

| source | package | speakers | clips |
|---|---|---|---|
| `asterisk` | asterisk-core-sounds-en-g722 | one professional female voice (telephone prompts) | ~555 |
| `librivox` | pocketsphinx-testdata | one male reader (LibriVox, Sense and Sensibility) | 5 |
| `alsa` | alsa-utils | one male voice, channel names ("front center") | 8 |
| `klettres` | klettres-data | one voice, English letters and short words | ~40 |

Asterisk's prompts are G.722 files; they are decoded once with Debian's ffmpeg into a cache folder
(16 kHz WAV), because libsndfile does not read G.722.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ASTERISK_SOUNDS = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
ASTERISK_TRANSCRIPTS = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
# The same prompts in other languages (asterisk-core-sounds-<language>-g722), each by one voice.
ASTERISK_VOICES = {"fr": "fr_CA_f_June", "es": "es_MX_f_Allison", "it": "it_IT_m_Carlo", "ru": "ru_RU_f_IvrvoiceRU"}
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
ALSA_SOUNDS = Path("/usr/share/sounds/alsa")  # alsa-utils' channel test words, spoken by a person
# KLettres (Debian klettres-data): a person speaking English letter names and short words.
KLETTRES_EN = Path("/usr/share/klettres/en")
SOURCES = ("asterisk", "librivox", "alsa", "klettres")
PACKAGES = {"asterisk": "asterisk-core-sounds-en-g722 ffmpeg", "librivox": "pocketsphinx-testdata",
            "alsa": "alsa-utils", "klettres": "klettres-data"}


@dataclass(frozen=True)
class Recording:
    source: str  # one of SOURCES, or the folder name for --speech-dir folders
    name: str  # unique within the source
    path: Path  # a file load_audio reads
    transcript: str

    @property
    def key(self) -> str:
        return f"{self.source}/{self.name}"


def folder_recordings(folder: Path) -> list[Recording]:
    """.wav/.flac files with a .txt transcript beside them (a user's own test set)."""
    folder = Path(folder)
    return [Recording(folder.name, path.stem, path, path.with_suffix(".txt").read_text(encoding="utf-8").strip())
            for path in sorted(folder.iterdir())
            if path.suffix.lower() in (".wav", ".flac") and path.with_suffix(".txt").is_file()]


def alsa_recordings(folder: Path = ALSA_SOUNDS) -> list[Recording]:
    """Front_Center.wav says "front center"; Noise.wav says nothing."""
    if not folder.is_dir():
        return []
    return [Recording("alsa", p.stem, p, p.stem.replace("_", " ").lower())
            for p in sorted(folder.glob("*.wav")) if p.stem != "Noise"]


def klettres_recordings(folder: Path = KLETTRES_EN) -> list[Recording]:
    """KLettres' sounds.xml names each recording; keep those whose name is an English word or letter."""
    if not (folder / "sounds.xml").is_file():
        return []
    found = []
    for sound in ET.parse(folder / "sounds.xml").getroot().iter("sound"):
        name, file = sound.get("name", ""), sound.get("file", "")
        path = folder.parent / file
        if path.is_file() and (len(name) == 1 or name.lower() in _KLETTRES_WORDS):
            found.append(Recording("klettres", Path(file).stem, path, name.lower()))
    return found


_KLETTRES_WORDS = {"car", "dog", "fix", "gas", "gem", "hot", "jet", "key", "me", "my", "no", "pet", "saw", "say",
                   "sit", "sky"}


def librivox_recordings(folder: Path = LIBRIVOX) -> list[Recording]:
    """Lines `<s> words </s> (file-id)` of pocketsphinx-testdata's transcription file."""
    listing = folder / "transcription"
    if not listing.is_file():
        return []
    found = []
    for line in listing.read_text(encoding="utf-8").splitlines():
        if "(" not in line:
            continue
        words, file_id = line.rsplit("(", 1)
        path = folder / f"{file_id.strip(' )')}.wav"
        text = words.replace("<s>", "").replace("</s>", "").strip()
        if path.is_file() and text:
            found.append(Recording("librivox", path.stem, path, text))
    return found


def asterisk_transcripts(listing: Path = ASTERISK_TRANSCRIPTS) -> dict[str, str]:
    """`key: text` lines; `;` comments and bracketed non-speech ("[this is a simple beep tone]") skipped."""
    if not listing.is_file():
        return {}
    found = {}
    with gzip.open(listing, "rt", encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if line.startswith(";") or ":" not in line:
                continue
            key, text = (part.strip() for part in line.split(":", 1))
            if key and text and not text.startswith(("[", "(")):  # "[ascending tones]", "(1 second of silence)"
                found[key] = text
    return found


def asterisk_recordings(cache: Path, sounds: Path = ASTERISK_SOUNDS, keys: set[str] | None = None,
                        language: str = "en") -> list[Recording]:
    """Asterisk's prompts in `language` (en, or one of ASTERISK_VOICES: all, or those named in `keys`),
    decoded to 16 kHz WAV under `cache` (once; later calls reuse them). Source "asterisk" is the English
    set, "asterisk-fr" the French one, and so on."""
    listing = ASTERISK_TRANSCRIPTS
    if language != "en":
        sounds = ASTERISK_SOUNDS.parent / ASTERISK_VOICES[language]
        listing = Path(f"/usr/share/doc/asterisk-core-sounds-{language}/core-sounds-{language}.txt.gz")
    source_name = "asterisk" if language == "en" else f"asterisk-{language}"
    transcripts = {k: t for k, t in asterisk_transcripts(listing).items() if keys is None or k in keys}
    if not transcripts or not sounds.is_dir():
        return []
    if shutil.which("ffmpeg") is None:
        raise FileNotFoundError("ffmpeg is needed to decode Asterisk's G.722 prompts: apt-get install ffmpeg")
    found = []
    for key, text in sorted(transcripts.items()):
        source = sounds / f"{key}.g722"
        if not source.is_file():
            continue
        wav = Path(cache) / source_name / f"{key}.wav"
        if not wav.is_file():
            _decode_g722(source, wav)
        found.append(Recording(source_name, key, wav, text))
    return found


def _decode_g722(source: Path, wav: Path) -> None:
    wav.parent.mkdir(parents=True, exist_ok=True)
    partial = wav.with_suffix(".partial.wav")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "g722", "-i", str(source), "-ar", "16000",
                    str(partial)], check=True)
    partial.replace(wav)  # a run stopped mid-decode leaves no half file behind


def real_recordings(cache: Path, sources: tuple[str, ...] = SOURCES) -> tuple[list[Recording], list[str]]:
    """Every recording of the named sources, and a note for each source that is not installed."""
    readers = {"asterisk": lambda: asterisk_recordings(cache), "librivox": librivox_recordings,
               "alsa": alsa_recordings, "klettres": klettres_recordings}
    found, missing = [], []
    for source in sources:
        recordings = readers[source]()
        if not recordings:
            missing.append(f"{source}: no recordings found (apt-get install {PACKAGES[source]})")
        found += recordings
    return found, missing
