"""Facial landmarks that fix a face-centred frame: where the mouth, eyes and jaw pivot are.

Coordinates follow FLAME's canonical frame: metres, +x the subject's left, +y up, +z out of the face.

What the measurement assumes of a mesh (true of FLAME's template and of the demo head):
- it is upright and faces +z, roughly centred on x = 0 (the midline);
- the nose tip is the front-most point of the midline above the lowest 30 % of the mesh;
- the lips and eyelids, where the mesh is open there, are boundary loops of the faces: the mouth
  is the loop 0.4 to 1.5 eye distances wide nearest the expected mouth, each eye a loop 0.15 to 0.7
  wide nearest the expected eye; without such loops, adult proportions around the nose tip stand in;
- the chin is the front-most midline point 0.4 to 1.4 eye distances below the mouth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FaceLandmarks:
    mouth_center: np.ndarray  # (3,) between the lips
    mouth_left: np.ndarray  # (3,) the subject's left corner (+x)
    mouth_right: np.ndarray
    eye_left: np.ndarray  # (3,) centre of the left eye opening
    eye_right: np.ndarray
    nose_tip: np.ndarray
    chin: np.ndarray

    @property
    def eye_distance(self) -> float:
        return float(np.linalg.norm(self.eye_left - self.eye_right))

    @property
    def jaw_pivot(self) -> np.ndarray:
        """Temporomandibular joint, roughly below the ears: behind and above the mouth corners."""
        scale = self.eye_distance
        return np.array([0.0, self.mouth_center[1] + 0.55 * scale, self.mouth_center[2] - 1.25 * scale])


def landmarks_from_proportions(vertices: np.ndarray) -> FaceLandmarks:
    """Landmarks from typical head proportions around the nose tip (the front-most central point).

    Used when the mesh has no open mouth or eye holes to measure. Proportions: adult head,
    eye distance ≈ 0.27 × head height, mouth 0.5 eye distances below the nose tip.
    """
    v = np.asarray(vertices, dtype=np.float64)
    height = v[:, 1].max() - v[:, 1].min()
    central = v[np.abs(v[:, 0] - np.median(v[:, 0])) < 0.05 * height]
    upper = central[central[:, 1] > np.percentile(v[:, 1], 30)]
    nose = upper[np.argmax(upper[:, 2])]
    eye = 0.27 * height
    x0 = nose[0]
    mouth = np.array([x0, nose[1] - 0.55 * eye, nose[2] - 0.3 * eye])
    return FaceLandmarks(
        mouth_center=mouth,
        mouth_left=mouth + [0.42 * eye, 0.02 * eye, -0.15 * eye],
        mouth_right=mouth + [-0.42 * eye, 0.02 * eye, -0.15 * eye],
        eye_left=np.array([x0 + eye / 2, nose[1] + 0.55 * eye, nose[2] - 0.55 * eye]),
        eye_right=np.array([x0 - eye / 2, nose[1] + 0.55 * eye, nose[2] - 0.55 * eye]),
        nose_tip=nose,
        chin=np.array([x0, nose[1] - 1.35 * eye, nose[2] - 0.35 * eye]),
    )


def landmarks_from_mesh(vertices: np.ndarray, faces: np.ndarray | None) -> FaceLandmarks:
    """Measure mouth and eyes from the mesh's openings (boundary loops) where it has them.

    FLAME's head, like most face meshes, is open at the lips and eyelids: the rim of each opening
    pins those landmarks down far better than proportions. Missing openings fall back to proportions.
    """
    guess = landmarks_from_proportions(vertices)
    if faces is None or len(faces) == 0:
        return guess
    v = np.asarray(vertices, dtype=np.float64)
    rims = [v[loop] for loop in boundary_loops(np.asarray(faces))]
    scale = guess.eye_distance

    def closest(target: np.ndarray, min_width: float, max_width: float, reach: float):
        best, best_distance = None, np.inf
        for points in rims:
            width = points[:, 0].max() - points[:, 0].min()
            distance = np.linalg.norm(points.mean(axis=0)[:2] - target[:2])
            if min_width * scale < width < max_width * scale and distance < reach * scale and distance < best_distance:
                best, best_distance = points, distance
        return best

    mouth = closest(guess.mouth_center, 0.4, 1.5, 0.8)
    if mouth is not None:
        middle = mouth[np.abs(mouth[:, 0] - mouth[:, 0].mean()) < 0.2 * np.ptp(mouth[:, 0])]
        centre = np.array([mouth[:, 0].mean(), mouth[:, 1].mean(), middle[:, 2].max()])
        mouth_left, mouth_right = mouth[np.argmax(mouth[:, 0])], mouth[np.argmin(mouth[:, 0])]
    else:
        centre, mouth_left, mouth_right = guess.mouth_center, guess.mouth_left, guess.mouth_right
    eyes = []
    for eye in (guess.eye_left, guess.eye_right):
        rim = closest(eye, 0.15, 0.7, 0.45)
        # The box centre, not the mean: rim vertices crowd where the mesh is dense.
        eyes.append((rim.min(axis=0) + rim.max(axis=0)) / 2 if rim is not None else eye)
    return FaceLandmarks(centre, mouth_left, mouth_right, eyes[0], eyes[1], guess.nose_tip, _chin(v, centre, scale))


def _chin(v: np.ndarray, mouth_center: np.ndarray, scale: float) -> np.ndarray:
    """Front-most midline point 0.4 to 1.4 eye distances below the mouth (the mental protuberance)."""
    dy = mouth_center[1] - v[:, 1]
    near = v[(np.abs(v[:, 0] - mouth_center[0]) < 0.08 * scale) & (dy > 0.4 * scale) & (dy < 1.4 * scale)]
    if len(near) == 0:
        return mouth_center - np.array([0.0, 0.9 * scale, 0.2 * scale])
    return near[np.argmax(near[:, 2])]


def boundary_loops(faces: np.ndarray) -> list[np.ndarray]:
    """Vertex indices of each hole's rim (edges used by one face only)."""
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    key = np.sort(edges, axis=1)
    unique, counts = np.unique(key, axis=0, return_counts=True)
    rim = unique[counts == 1]
    neighbours: dict[int, list[int]] = {}
    for a, b in rim:
        neighbours.setdefault(int(a), []).append(int(b))
        neighbours.setdefault(int(b), []).append(int(a))
    loops, seen = [], set()
    for start in neighbours:
        if start in seen:
            continue
        loop, current, previous = [start], start, None
        seen.add(start)
        while True:
            options = [n for n in neighbours[current] if n != previous and n not in seen]
            if not options:
                break
            previous, current = current, options[0]
            seen.add(current)
            loop.append(current)
        if len(loop) >= 4:
            loops.append(np.array(loop))
    return loops
