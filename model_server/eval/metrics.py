"""Evaluation metrics: vertex errors against ground truth, lip-sync on speech without ground truth,
disentanglement of content and style, and retrieval in the shared style space.

Vertex metrics return SI units (m², m); the report converts them (LVE in mm², FDD in 1e-5 m).
"""

from __future__ import annotations

import numpy as np

from ..arkit import ARKIT_INDEX, ARKIT_NAMES
from ..audio.types import Phone
from ..synthesis.metrics import lip_aperture, phone_frames
from .geometry import FaceGeometry

_I = ARKIT_INDEX
BLINKS = ("eyeBlinkLeft", "eyeBlinkRight")
BILABIALS = ("P", "B", "M")
OPEN_VOWELS = ("AA", "AE", "AO", "AH", "AW", "AY")
LABIODENTALS = ("F", "V")
ROUNDED = ("UW", "OW", "W")
SPREAD_VOWELS = ("IY", "IH", "EY", "EH")
# /f v/: the lower lip tucks up to the upper teeth (ARKit mouthRollLower) while the lips stay nearly
# shut: on some frame the roll reaches LABIODENTAL_ROLL and the aperture is at most LABIODENTAL_SHARE
# of the open-vowel reference.
LABIODENTAL_ROLL, LABIODENTAL_SHARE = 0.2, 0.5
# Lips count as closed during a /p b m/ when the aperture falls below this share of the clip's open-vowel
# aperture. Why 0.15: a closure need not reach exactly 0 (smoothing at 25 fps rounds a 60 ms closure
# off), but lips that stay open by more than about a sixth of a vowel's opening (about 2 mm at a
# typical 12 mm vowel gap) visibly do not touch. Relative to the clip so a calm, small-mouthed style
# is judged by its own scale.
CLOSURE_SHARE = 0.15
# Upper face as channels: brows, eyes (without blinks, which ground truth leaves out), cheeks, nose.
UPPER_FACE_CHANNELS = tuple(n for n in ARKIT_NAMES if n.startswith(("brow", "eye", "cheek", "noseSneer")) and n not in BLINKS)


def without_blinks(arkit: np.ndarray) -> np.ndarray:
    """Copy with the blink channels at 0: blinks are random in time and ground truth has none."""
    out = np.array(arkit, dtype=np.float64, copy=True)
    out[:, [_I[n] for n in BLINKS]] = 0.0
    return out


# --- vertex metrics against ground truth --------------------------------------------------------

def lip_vertex_error(geometry: FaceGeometry, predicted: np.ndarray, truth: np.ndarray) -> float:
    """LVE (MeshTalk, FaceFormer): per frame the largest squared distance over the lip vertices, averaged
    over frames. Weights (T, 52) each; m² for a geometry in metres."""
    a = geometry.vertices(predicted, geometry.lip_vertices)  # (T, L, 3)
    b = geometry.vertices(truth, geometry.lip_vertices)
    return float(np.mean(np.max(np.sum((a - b) ** 2, axis=2), axis=1)))


def upper_face_dynamics_deviation(geometry: FaceGeometry, predicted: np.ndarray, truth: np.ndarray) -> float:
    """FDD (CodeTalker): per upper-face vertex, the std over time of its displacement norm from the
    template, predicted minus ground truth, averaged over vertices. Signed: > 0 means the prediction's
    upper face moves more than the truth's. Metres."""
    idx = geometry.upper_face_vertices
    rest = geometry.base[idx][None]

    def dynamics(arkit: np.ndarray) -> np.ndarray:  # (U,)
        return np.linalg.norm(geometry.vertices(arkit, idx) - rest, axis=2).std(axis=0)

    return float(np.mean(dynamics(predicted) - dynamics(truth)))


# --- lip-sync on speech, from motion and phone timing (no ground truth needed) -------------------

def as_phones(phones) -> list[Phone]:
    """Phones from Phone objects or [phone, start, end] triples (the corpus manifest's form)."""
    return [p if isinstance(p, Phone) else Phone(str(p[0]), float(p[1]), float(p[2])) for p in phones]


def _frames_of(phones, names: tuple[str, ...], fps: float, frames: int) -> list[np.ndarray]:
    return [f for f in (phone_frames(p, fps, frames) for p in as_phones(phones) if p.phone in names) if len(f)]


def open_vowel_reference(aperture: np.ndarray, phones, fps: float) -> float:
    """The clip's own scale of lip opening: the median over open vowels of each vowel's widest frame.

    Without an open vowel, the 90th percentile of the aperture over the frames of speech, not over the
    whole clip: in a short word between pauses ("em"), most frames are silence, and a face that rests
    with closed lips there would otherwise be held to a threshold near zero."""
    vowels = _frames_of(phones, OPEN_VOWELS, fps, len(aperture))
    if vowels:
        return float(np.median([aperture[f].max() for f in vowels]))
    speech = speech_frames(phones, fps, len(aperture))
    return float(np.percentile(aperture[speech] if len(speech) else aperture, 90))


def bilabial_closure(arkit: np.ndarray, phones, fps: float, min_seconds: float = 0.0) -> tuple[int, int]:
    """(closed, total) /p b m/ phones of at least `min_seconds`: closed when the lip aperture falls to
    CLOSURE_SHARE of the clip's open-vowel reference (open_vowel_reference) on one of its frames."""
    aperture = lip_aperture(arkit)
    long_enough = [p for p in as_phones(phones) if p.end - p.start >= min_seconds - 1e-9]
    bilabials = _frames_of(long_enough, BILABIALS, fps, len(aperture))
    if not bilabials:
        return 0, 0
    threshold = CLOSURE_SHARE * open_vowel_reference(aperture, phones, fps)
    closed = sum(aperture[f].min() <= threshold for f in bilabials)
    return int(closed), len(bilabials)


def labiodental_contact(arkit: np.ndarray, phones, fps: float) -> tuple[int, int]:
    """(reached, total) /f v/ phones where the lower lip meets the upper teeth on some frame."""
    arkit = np.asarray(arkit)
    aperture = lip_aperture(arkit)
    labiodentals = _frames_of(phones, LABIODENTALS, fps, len(aperture))
    if not labiodentals:
        return 0, 0
    near_shut = aperture <= LABIODENTAL_SHARE * open_vowel_reference(aperture, phones, fps)
    tucked = (arkit[:, _I["mouthRollLower"]] >= LABIODENTAL_ROLL) & near_shut
    return int(sum(tucked[f].any() for f in labiodentals)), len(labiodentals)


def lip_rounding(arkit: np.ndarray) -> np.ndarray:
    """(T,) how rounded the lips are: pucker (narrow, forward) plus funnel (open, forward)."""
    arkit = np.asarray(arkit)
    return arkit[:, _I["mouthPucker"]] + arkit[:, _I["mouthFunnel"]]


def rounding_by_phone(arkit: np.ndarray, phones, fps: float) -> tuple[list[float], list[float]]:
    """Each /uw ow w/'s peak rounding and each spread vowel's (/iy ih ey eh/) mean rounding: lips that
    round for /uw/ and spread for /iy/ show a clear difference between the two pooled means."""
    rounding = lip_rounding(arkit)
    rounded = _frames_of(phones, ROUNDED, fps, len(rounding))
    spread = _frames_of(phones, SPREAD_VOWELS, fps, len(rounding))
    return [float(rounding[f].max()) for f in rounded], [float(rounding[f].mean()) for f in spread]


def open_vowel_opening(arkit: np.ndarray, phones, fps: float) -> list[float]:
    """Each open vowel's widest lip aperture (the same aperture the closure is judged by)."""
    aperture = lip_aperture(arkit)
    return [float(aperture[f].max()) for f in _frames_of(phones, OPEN_VOWELS, fps, len(aperture))]


def lip_jitter(arkit: np.ndarray, phones, fps: float) -> float:
    """Mean absolute second difference of the lip aperture over speech frames, per second²: the
    curve's curvature, comparable across frame rates; frame-to-frame chatter makes it large."""
    aperture = lip_aperture(arkit)
    if len(aperture) < 3:
        return float("nan")
    frames = speech_frames(phones, fps, len(aperture))
    frames = frames[(frames > 0) & (frames < len(aperture) - 1)]
    if not len(frames):
        return float("nan")
    second = aperture[frames + 1] - 2 * aperture[frames] + aperture[frames - 1]
    return float(np.mean(np.abs(second)) * fps ** 2)


# --- the recognition path against the true text --------------------------------------------------

def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    """Substitutions + deletions + insertions turning the reference words into the hypothesis."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, start=1):
        current = [i]
        for j, hyp in enumerate(hypothesis, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def phones_recovered(reference, hypothesis) -> tuple[int, int]:
    """(found, total) spoken reference phones whose middle falls inside a hypothesis phone of the same label."""
    hyp = sorted(as_phones(hypothesis), key=lambda p: p.start)
    starts = np.array([p.start for p in hyp])
    found = total = 0
    for phone in as_phones(reference):
        if phone.phone == "SIL":
            continue
        total += 1
        middle = (phone.start + phone.end) / 2
        k = int(np.searchsorted(starts, middle, side="right")) - 1
        found += int(k >= 0 and hyp[k].end > middle and hyp[k].phone == phone.phone)
    return found, total


def bilabial_closure_rate(arkit: np.ndarray, phones, fps: float) -> float:
    """Fraction of /p b m/ phones during which the lips close; NaN without bilabials."""
    closed, total = bilabial_closure(arkit, phones, fps)
    return closed / total if total else float("nan")


def mean_jaw_opening(arkit: np.ndarray, phones, fps: float, names: tuple[str, ...]) -> float:
    """Mean jawOpen weight over the frames of the given phones (OPEN_VOWELS, BILABIALS); NaN if none."""
    frames = _frames_of(phones, names, fps, len(arkit))
    if not frames:
        return float("nan")
    return float(np.asarray(arkit)[np.concatenate(frames), _I["jawOpen"]].mean())


def speech_frames(phones, fps: float, frames: int) -> np.ndarray:
    """Frames inside any phone that is not silence."""
    inside = [phone_frames(p, fps, frames) for p in as_phones(phones) if p.phone != "SIL"]
    return np.unique(np.concatenate(inside)) if inside else np.zeros(0, dtype=int)


def speech_lip_correlation(arkit: np.ndarray, loudness: np.ndarray, phones, fps: float) -> float:
    """SLCC: Pearson correlation of loudness (dBFS per frame) and lip aperture over speech frames."""
    n = min(len(arkit), len(loudness))
    frames = speech_frames(phones, fps, n)
    return pearson(np.asarray(loudness)[frames], lip_aperture(np.asarray(arkit)[:n])[frames])


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation; 1 for two identical constant curves, NaN for a constant one otherwise."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) < 2:
        return float("nan")
    sa, sb = a.std(), b.std()
    if sa < 1e-12 or sb < 1e-12:
        return 1.0 if np.allclose(a, b) else float("nan")
    return float(np.mean((a - a.mean()) * (b - b.mean())) / (sa * sb))


# --- disentanglement: same speech, two styles ----------------------------------------------------

def channel_correlation(a: np.ndarray, b: np.ndarray, name: str) -> float:
    """Correlation of one channel (jawOpen, mouthClose) between two motions of the same speech."""
    n = min(len(a), len(b))
    return pearson(np.asarray(a)[:n, _I[name]], np.asarray(b)[:n, _I[name]])


def upper_face_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of the brow, eye (not blink), cheek and nose channels."""
    n = min(len(a), len(b))
    cols = [_I[c] for c in UPPER_FACE_CHANNELS]
    return float(np.mean(np.abs(np.asarray(a)[:n, cols] - np.asarray(b)[:n, cols])))


def style_diversity(codes: np.ndarray) -> float:
    """Mean pairwise L2 distance between sampled style codes (n, D)."""
    c = np.asarray(codes, dtype=np.float64)
    if len(c) < 2:
        return float("nan")
    d = np.linalg.norm(c[:, None] - c[None], axis=2)
    return float(d[np.triu_indices(len(c), 1)].mean())


# --- retrieval in the style space ----------------------------------------------------------------

def nearest(queries: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """(N,) index of each query's nearest gallery item by cosine similarity (inputs L2-normalised)."""
    return np.argmax(np.asarray(queries) @ np.asarray(gallery).T, axis=1)


def retrieval_top1(queries: np.ndarray, gallery: np.ndarray) -> float:
    """Fraction of queries i whose nearest gallery item is item i."""
    return float(np.mean(nearest(queries, gallery) == np.arange(len(queries))))


def same_label_top1(queries: np.ndarray, gallery: np.ndarray, labels) -> float:
    """Fraction of queries whose nearest gallery item has the query's label (e.g. the same emotion)."""
    labels = np.asarray(labels)
    return float(np.mean(labels[nearest(queries, gallery)] == labels))
