"""The 52 ARKit blendshapes as smooth displacement fields over any head, in a face-centred frame.

One definition serves two uses: the demo head's shape keys are these fields evaluated on its mesh,
and the FLAME retarget fits FLAME's expression basis to these fields evaluated on FLAME's template.
Units: the face frame measures in eye distances from the mouth centre (x the subject's left,
y up, z out of the face); displacements come back in the mesh's own units.
"""

from __future__ import annotations

import numpy as np

from ..arkit import ARKIT_INDEX, ARKIT_NAMES
from .face_frame import FaceLandmarks

JAW_OPEN_RADIANS = 0.30  # jawOpen = 1 rotates the lower face this far about the jaw pivot
JAW_SHAPES = ("jawOpen", "jawLeft", "jawRight", "jawForward")  # FLAME does these with its jaw joint


def _box(x: np.ndarray, half: float, soft: float) -> np.ndarray:
    """1 inside |x| < half, 0 outside, with a smooth edge `soft` wide."""
    t = np.clip((half - np.abs(x)) / soft + 0.5, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _ramp(t: np.ndarray) -> np.ndarray:
    """Smoothstep of t clipped to 0..1."""
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _bump(q: np.ndarray, centre, radii) -> np.ndarray:
    return np.exp(-np.sum(((q - np.asarray(centre)) / np.asarray(radii)) ** 2, axis=1))


def rotate_about_x(q: np.ndarray, pivot: np.ndarray, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    r = q - pivot
    rotated = np.stack([r[:, 0], c * r[:, 1] - s * r[:, 2], s * r[:, 1] + c * r[:, 2]], axis=1)
    return rotated + pivot - q


class FaceRegions:
    """Soft masks over the vertices, each 0..1, computed once per mesh."""

    def __init__(self, q: np.ndarray, pivot: np.ndarray):
        x, y, z = q[:, 0], q[:, 1], q[:, 2]
        front = np.clip((z + 0.9) / 0.4, 0, 1)
        self.front = front
        # The jaw carries everything below the lip line: the upper lip's rim (y ≥ 0) stays put, the
        # lower one goes fully; beyond the corners the cheek shears over a wider band.
        shear = 0.02 + 0.35 * _ramp((np.abs(x) - 0.35) / 0.5)
        self.jaw_sides = _box(x, 1.15, 0.5)  # how far across the face the jaw reaches
        self.lower_face = _ramp(-y / shear) * self.jaw_sides * front * (y > -2.2)
        # Lips: full weight from the rim out to ~0.25 eye distances, fading over the next 0.3, so
        # mouthClose can bring the whole rim together without a visible edge on the skin.
        across = _ramp((0.85 - np.abs(x)) / 0.35)
        self.lower_lip = (y < 0) * _ramp((y + 0.55) / 0.3) * across * front
        self.upper_lip = (y >= 0) * _ramp((0.55 - y) / 0.3) * across * front
        self.lips = self.lower_lip + self.upper_lip
        self.corner_left = _bump(q, (0.45, 0.0, -0.1), (0.22, 0.2, 0.35)) * front
        self.corner_right = _bump(q, (-0.45, 0.0, -0.1), (0.22, 0.2, 0.35)) * front
        self.mouth_area = _bump(q, (0.0, 0.0, 0.0), (0.7, 0.45, 0.6)) * front
        self.cheek_left = _bump(q, (0.65, 0.45, -0.25), (0.35, 0.3, 0.4)) * front
        self.cheek_right = _bump(q, (-0.65, 0.45, -0.25), (0.35, 0.3, 0.4)) * front
        self.nose_left = _bump(q, (0.17, 0.65, 0.1), (0.12, 0.15, 0.3)) * front
        self.nose_right = _bump(q, (-0.17, 0.65, 0.1), (0.12, 0.15, 0.3)) * front
        self.pivot = pivot


def face_weights(vertices: np.ndarray, landmarks: FaceLandmarks) -> np.ndarray:
    """(V,) 1 on the face (brows to chin, cheek to cheek, front half), fading to 0.05 elsewhere.

    The retarget weighs its fit with this: FLAME's scalp, neck and ears carry no ARKit motion, and
    their many vertices would otherwise outvote the lips and lids.
    """
    q = (np.asarray(vertices, dtype=np.float64) - landmarks.mouth_center) / landmarks.eye_distance
    face = _box(q[:, 0], 1.1, 0.5) * _box(q[:, 1] - 0.4, 1.5, 0.5) * np.clip((q[:, 2] + 0.9) / 0.4, 0, 1)
    return 0.05 + 0.95 * face


def arkit_displacements(vertices: np.ndarray, landmarks: FaceLandmarks) -> np.ndarray:
    """(52, V, 3) displacement of every vertex at weight 1 of each ARKit blendshape."""
    v = np.asarray(vertices, dtype=np.float64)
    scale = landmarks.eye_distance
    q = (v - landmarks.mouth_center) / scale
    pivot = (landmarks.jaw_pivot - landmarks.mouth_center) / scale
    eye_l = (landmarks.eye_left - landmarks.mouth_center) / scale
    eye_r = (landmarks.eye_right - landmarks.mouth_center) / scale
    r = FaceRegions(q, pivot)
    d = np.zeros((len(ARKIT_NAMES), len(v), 3))

    def put(name: str, field: np.ndarray) -> None:
        d[ARKIT_INDEX[name]] = field

    def along(weight: np.ndarray, direction) -> np.ndarray:
        return weight[:, None] * np.asarray(direction, dtype=np.float64)[None, :]

    jaw_open = rotate_about_x(q, pivot, JAW_OPEN_RADIANS) * r.lower_face[:, None]
    put("jawOpen", jaw_open)
    put("jawLeft", along(r.lower_face, (0.12, 0, 0)))
    put("jawRight", along(r.lower_face, (-0.12, 0, 0)))
    put("jawForward", along(r.lower_face, (0, 0, 0.12)))
    # mouthClose brings the lower lip back up to meet the upper one while the jaw stays open.
    put("mouthClose", -jaw_open * r.lower_lip[:, None])
    put("mouthFunnel", along(r.lips, (0, 0, 0.12)) + along(r.upper_lip, (0, 0.06, 0)) + along(r.lower_lip, (0, -0.06, 0))
        - q * np.array([0.25, 0, 0]) * r.lips[:, None])
    put("mouthPucker", along(r.lips, (0, 0, 0.16)) - q * np.array([0.4, 0.1, 0]) * r.mouth_area[:, None])
    put("mouthLeft", along(r.mouth_area, (0.15, 0, 0)))
    put("mouthRight", along(r.mouth_area, (-0.15, 0, 0)))
    for side, corner, sign, cheek in (("Left", r.corner_left, 1, r.cheek_left), ("Right", r.corner_right, -1, r.cheek_right)):
        put(f"mouthSmile{side}", along(corner, (0.1 * sign, 0.16, -0.06)))
        put(f"mouthFrown{side}", along(corner, (0.03 * sign, -0.15, 0)))
        put(f"mouthDimple{side}", along(corner, (0.05 * sign, 0, -0.08)))
        put(f"mouthStretch{side}", along(corner, (0.14 * sign, -0.04, -0.03)))
        put(f"mouthPress{side}", along(r.upper_lip * (q[:, 0] * sign > -0.1), (0, -0.03, 0))
            + along(r.lower_lip * (q[:, 0] * sign > -0.1), (0, 0.03, 0)))
        put(f"mouthLowerDown{side}", along(r.lower_lip * _box(q[:, 0] - 0.2 * sign, 0.3, 0.2), (0, -0.16, 0.02)))
        put(f"mouthUpperUp{side}", along(r.upper_lip * _box(q[:, 0] - 0.2 * sign, 0.3, 0.2), (0, 0.14, 0.02)))
        put(f"cheekSquint{side}", along(cheek, (0, 0.08, 0)))
        put(f"noseSneer{side}", along(r.nose_left if sign > 0 else r.nose_right, (0, 0.07, 0.01)))
    put("mouthRollLower", along(r.lower_lip, (0, 0.05, -0.09)))
    put("mouthRollUpper", along(r.upper_lip, (0, -0.05, -0.09)))
    put("mouthShrugLower", along(r.lower_lip + 0.5 * _bump(q, (0, -0.45, 0), (0.35, 0.25, 0.5)) * r.front, (0, 0.08, 0.02)))
    put("mouthShrugUpper", along(r.upper_lip, (0, 0.06, 0.01)))
    put("cheekPuff", along(_bump(q, (0.6, 0.05, -0.2), (0.3, 0.35, 0.4)) * r.front, (0.1, 0, 0.03))
        + along(_bump(q, (-0.6, 0.05, -0.2), (0.3, 0.35, 0.4)) * r.front, (-0.1, 0, 0.03)))
    put("tongueOut", np.zeros_like(q))  # no tongue geometry assumed

    inner_brows = [_eye_shapes(put, along, q, eye, sign, side, r.front)
                   for side, eye, sign in (("Left", eye_l, 1), ("Right", eye_r, -1))]
    put("browInnerUp", inner_brows[0] + inner_brows[1])  # one ARKit shape raises both inner brows
    return d * scale


def _eye_shapes(put, along, q, eye, sign, side, front) -> np.ndarray:
    """Lids, gaze and brow of one eye; returns its inner-brow raise for the shared browInnerUp."""
    x, y = q[:, 0] - eye[0], q[:, 1] - eye[1]
    socket = _box(x, 0.3, 0.1) * front
    # Lid skin from the rim up to the crease. An eye opening is almond-shaped (about 0.4 eye
    # distances wide), so the upper rim travels furthest at the middle and little at the corners.
    almond = np.sqrt(np.clip(1 - (x / 0.22) ** 2, 0, 1)) * front
    upper_lid = socket * (y > 0) * np.clip((0.3 - y) / 0.2, 0, 1)
    lower_lid = socket * _box(y + 0.1, 0.12, 0.06) * (y <= 0)
    put(f"eyeBlink{side}", along(upper_lid * (0.15 + 0.85 * almond), (0, -0.085, 0.01)))
    put(f"eyeSquint{side}", along(lower_lid, (0, 0.05, 0)) + along(upper_lid, (0, -0.03, 0)))
    put(f"eyeWide{side}", along(upper_lid, (0, 0.06, 0)))
    iris = socket * _box(y, 0.15, 0.08) * _box(x, 0.14, 0.08)
    put(f"eyeLookUp{side}", along(iris, (0, 0.05, 0)))
    put(f"eyeLookDown{side}", along(iris, (0, -0.05, 0)))
    put(f"eyeLookIn{side}", along(iris, (-0.06 * sign, 0, 0)))
    put(f"eyeLookOut{side}", along(iris, (0.06 * sign, 0, 0)))
    brow = _bump(q, (eye[0], eye[1] + 0.42, eye[2]), (0.35, 0.17, 0.5)) * front
    inner = _bump(q, (eye[0] - 0.22 * sign, eye[1] + 0.42, eye[2]), (0.18, 0.18, 0.5)) * front
    outer = _bump(q, (eye[0] + 0.2 * sign, eye[1] + 0.4, eye[2]), (0.2, 0.18, 0.5)) * front
    put(f"browDown{side}", along(brow, (-0.03 * sign, -0.09, 0)))
    put(f"browOuterUp{side}", along(outer, (0, 0.11, 0)))
    return along(inner, (0, 0.11, 0))
