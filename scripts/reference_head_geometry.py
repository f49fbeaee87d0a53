"""Geometry of the reference head, in numpy: skin with lip and eye openings, eyeballs, teeth, mouth cavity.

The evaluation measures lip and upper-face motion on this mesh (assets/reference_head.glb) and the
synthetic FLAME-format model is made from its skin, so it stays as it is: a new mesh would move
every figure and the training's lip loss. It was the first demo head; scripts/demo_head_geometry.py
makes the one animators see.

Coordinates follow FLAME's frame (metres, +x the subject's left, +y up, +z out of the face) so the
same ARKit fields that define the FLAME retarget define the shape keys. The Blender build script
rotates it into Blender's Z-up, face-towards-−Y convention.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model_server.arkit import ARKIT_INDEX, ARKIT_NAMES
from model_server.retarget.arkit_fields import JAW_SHAPES, arkit_displacements
from model_server.retarget.face_frame import FaceLandmarks

RX, RY, RZ = 0.076, 0.112, 0.094  # skull half-width, half-height, half-depth
MOUTH_Y, MOUTH_HALF_WIDTH, LIP_GAP = -0.052, 0.025, 0.0007
EYE_X, EYE_Y, EYE_HALF_WIDTH = 0.032, 0.030, 0.0125
EYE_GAP, LID_UPPER, LID_LOWER, LID_REACH = 0.0008, 0.0040, 0.0015, 0.014  # rim heights above/below EYE_Y
SKIN_COLOUR, LIP_COLOUR = (0.52, 0.31, 0.23), (0.45, 0.13, 0.12)  # linear RGB
NOSE_Y = -0.008
EYEBALL_RADIUS = 0.0122
PARTS = ("skin", "lips", "eye_white", "iris", "teeth", "mouth")
MATERIAL_COLOURS = {"skin": None, "lips": None, "eye_white": (0.80, 0.80, 0.78),  # None: the colour attribute
                    "iris": (0.06, 0.035, 0.02), "teeth": (0.80, 0.77, 0.68), "mouth": (0.10, 0.015, 0.015)}


@dataclass
class HeadMesh:
    vertices: np.ndarray  # (V, 3)
    faces: list[tuple[int, ...]]  # quads and triangles
    face_parts: list[int]  # index into PARTS, per face
    vertex_parts: np.ndarray  # (V,) index into PARTS
    vertex_colours: np.ndarray  # (V, 3) linear RGB: skin, blending into lip colour at the lips
    landmarks: FaceLandmarks
    eye_centres: tuple[np.ndarray, np.ndarray]


def _rows(base_rows: int = 72) -> np.ndarray:
    """Elevation samples as heights, dense at the lips and eyes so they can close cleanly."""
    base = np.linspace(-0.98, 0.995, base_rows) * RY
    dense = ((MOUTH_Y, (LIP_GAP, 0.002, 0.0035, 0.0055, 0.008, 0.011, 0.015)),
             (EYE_Y, (EYE_GAP, 0.0025, 0.0042, 0.006, 0.0085, 0.012)))
    for centre, offsets in dense:  # the dense rows replace the even ones there (none inside a slit)
        base = base[np.abs(base - centre) > max(offsets) + 0.001]
    base = list(base)
    for centre, offsets in dense:
        for o in offsets:
            base += [centre + o, centre - o]
    rows = np.unique(np.round(base, 6))
    return rows


def _skin_point(x_unit: np.ndarray, y: np.ndarray, azimuth: np.ndarray) -> np.ndarray:
    """Surface point for an azimuth (0 = front) and height y, with the face features sculpted in."""
    ring = np.sqrt(np.clip(1 - (y / RY) ** 2, 0, 1))
    jaw_taper = 1 - 0.22 * np.clip((-0.02 - y) / 0.09, 0, 1) ** 1.3
    x = RX * ring * np.sin(azimuth) * jaw_taper
    z = RZ * ring * np.cos(azimuth) * (1 - 0.12 * np.clip((-0.02 - y) / 0.09, 0, 1))
    front = np.clip(np.cos(azimuth), 0, 1) ** 2
    ax = np.abs(x)
    g = lambda cx, cy, sx, sy, xx=x: np.exp(-((xx - cx) / sx) ** 2 - ((y - cy) / sy) ** 2)  # noqa: E731
    relief = (
        0.021 * g(0, NOSE_Y, 0.010, 0.020) + 0.009 * g(0, 0.018, 0.007, 0.022)          # nose tip, bridge
        + 0.005 * g(0.012, NOSE_Y - 0.006, 0.007, 0.006, ax)                            # nostrils
        - 0.010 * g(EYE_X, EYE_Y, 0.016, 0.011, ax)                                     # eye sockets
        + 0.0045 * g(EYE_X, EYE_Y + 0.019, 0.021, 0.006, ax)                            # brow ridge
        + 0.0065 * np.exp(-(x / MOUTH_HALF_WIDTH) ** 4 - ((y - MOUTH_Y) / 0.0075) ** 2)  # lips
        - 0.003 * g(0, MOUTH_Y - 0.017, 0.02, 0.006)                                    # chin crease
        + 0.007 * g(0, MOUTH_Y - 0.036, 0.016, 0.012)                                   # chin
        + 0.004 * g(0.045, -0.01, 0.018, 0.02, ax)                                      # cheekbones
    )
    return np.stack([x, y, z + relief * front], axis=-1)


def _eye_u(x: np.ndarray) -> np.ndarray:
    """Position across the eye opening: 0 at the middle, ±1 at the corners."""
    return (np.abs(x) - EYE_X) / EYE_HALF_WIDTH


def _open_eyes(heights: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Spread the grid rows around each eye's slit into an almond opening with smooth lids.

    The slit is the row pair EYE_Y ± EYE_GAP, so the opening's rim is a clean loop of vertices
    (no staircase); rows further out move less, and rows LID_REACH away not at all.
    """
    dy = heights - EYE_Y
    almond = np.sqrt(np.clip(1 - _eye_u(x) ** 2, 0, 1))
    rim = np.where(dy > 0, LID_UPPER, LID_LOWER) * almond
    push = np.clip(rim - EYE_GAP, 0, None) / (1 - EYE_GAP / LID_REACH)
    return heights + np.sign(dy) * push * np.clip(1 - np.abs(dy) / LID_REACH, 0, 1)


def _lip_weight(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """1 on the red of the lips, 0 on the skin, with a soft 1 mm border (for the colour attribute)."""
    across = np.clip(1 - (x / (MOUTH_HALF_WIDTH * 1.04)) ** 2, 0, 1)
    dy = y - MOUTH_Y
    height = np.where(dy > 0, 0.0068 * across ** 0.6 * (1 - 0.18 * np.exp(-(x / 0.004) ** 2)), 0.0082 * across ** 0.55)
    t = np.clip((height - np.abs(dy)) / 0.0012 + 0.5, 0, 1)
    return t * t * (3 - 2 * t)


def _grid_faces(rows: int, cols: int, offset: int) -> list[tuple[int, int, int, int]]:
    faces = []
    for r in range(rows - 1):
        for c in range(cols):
            a, b = offset + r * cols + c, offset + r * cols + (c + 1) % cols
            faces.append((a, b, b + cols, a + cols))
    return faces


def _sphere(centre, radii, rows: int, cols: int, offset: int, z_cap: float | None = None):
    el = np.linspace(-np.pi / 2 * 0.98, np.pi / 2 * 0.98, rows)
    az = np.linspace(0, 2 * np.pi, cols, endpoint=False)
    E, A = np.meshgrid(el, az, indexing="ij")
    points = np.stack([np.cos(E) * np.sin(A), np.sin(E), np.cos(E) * np.cos(A)], -1).reshape(-1, 3)
    return points * np.asarray(radii) + np.asarray(centre), _grid_faces(rows, cols, offset)


def build_head(columns: int = 168, base_rows: int = 72) -> HeadMesh:
    """The demo head; fewer columns and rows give the small heads that tests use as FLAME stand-ins."""
    heights = _rows(base_rows)
    cols = columns
    azimuth = np.linspace(-np.pi, np.pi, cols, endpoint=False)
    H, A = np.meshgrid(heights, azimuth, indexing="ij")
    flat = _skin_point(None, H, A)  # before the eyes open: fixes which column crosses which eye
    H = np.where(flat[..., 2] > 0, _open_eyes(H, flat[..., 0]), H)
    skin = _skin_point(None, H, A).reshape(-1, 3)
    eye_slit_row = int(np.searchsorted(heights, EYE_Y - EYE_GAP - 1e-7))
    vertices = [skin]
    faces, face_parts = [], []
    vertex_parts = [np.zeros(len(skin), dtype=int)]
    flat = flat.reshape(-1, 3)
    lip_weight = _lip_weight(skin[:, 0], skin[:, 1]) * (skin[:, 2] > 0)
    for face in _grid_faces(len(heights), cols, 0):
        centre = skin[list(face)].mean(axis=0)
        x, y = centre[0], centre[1]
        front = centre[2] > 0
        in_slit = front and abs(y - MOUTH_Y) < LIP_GAP * 0.99 and abs(x) < MOUTH_HALF_WIDTH
        in_eye = front and face[0] // cols == eye_slit_row and abs(_eye_u(flat[list(face)][:, 0].mean())) < 1
        if in_slit or in_eye:
            continue
        is_lip = front and lip_weight[list(face)].max() > 0.5
        faces.append(face)
        face_parts.append(PARTS.index("lips" if is_lip else "skin"))

    offset = len(skin)
    surface_z = lambda x, y: float(_skin_point(None, np.array(y), np.arcsin(np.clip(x / RX, -1, 1)))[2])  # noqa: E731
    eye_centres = []
    for side in (1, -1):
        # Just behind the lids, so the upper lid slides over the eyeball when it blinks.
        centre = np.array([side * EYE_X, EYE_Y, surface_z(side * EYE_X, EYE_Y) - EYEBALL_RADIUS - 0.0005])
        eye_centres.append(centre)
        points, sphere_faces = _sphere(centre, (EYEBALL_RADIUS,) * 3, 14, 24, offset)
        vertices.append(points)
        vertex_parts.append(np.full(len(points), PARTS.index("eye_white")))
        for face in sphere_faces:
            facing = (points[[i - offset for i in face]].mean(axis=0) - centre)[2] / EYEBALL_RADIUS
            faces.append(face)
            face_parts.append(PARTS.index("iris" if facing > 0.86 else "eye_white"))
        offset += len(points)

    lip_z = surface_z(0.0, MOUTH_Y)
    cavity, cavity_faces = _sphere((0, MOUTH_Y - 0.002, lip_z - 0.027), (0.021, 0.015, 0.015), 10, 20, offset)
    vertices.append(cavity)
    vertex_parts.append(np.full(len(cavity), PARTS.index("mouth")))
    faces += cavity_faces
    face_parts += [PARTS.index("mouth")] * len(cavity_faces)
    offset += len(cavity)
    for top, bottom in ((MOUTH_Y + 0.0075, MOUTH_Y + 0.0012), (MOUTH_Y - 0.0012, MOUTH_Y - 0.0070)):
        arc = np.linspace(-0.8, 0.8, 12)
        ring = np.stack([0.023 * np.sin(arc), np.zeros_like(arc), lip_z - 0.0105 - 0.02 * (1 - np.cos(arc))], -1)
        strip = np.concatenate([ring + [0, top, 0], ring + [0, bottom, 0]])
        vertices.append(strip)
        vertex_parts.append(np.full(len(strip), PARTS.index("teeth")))
        for i in range(len(arc) - 1):
            faces.append((offset + i, offset + i + 1, offset + len(arc) + i + 1, offset + len(arc) + i))
            face_parts.append(PARTS.index("teeth"))
        offset += len(strip)

    all_vertices = np.concatenate(vertices)
    colours = np.zeros((len(all_vertices), 3))
    colours[: len(skin)] = np.outer(1 - lip_weight, SKIN_COLOUR) + np.outer(lip_weight, LIP_COLOUR)
    landmarks = face_landmarks(surface_z, lip_z, MOUTH_Y, MOUTH_HALF_WIDTH, (EYE_X, EYE_Y),
                               (LID_UPPER - LID_LOWER) / 2, NOSE_Y, MOUTH_Y - 0.036)
    return HeadMesh(all_vertices, faces, face_parts, np.concatenate(vertex_parts), colours, landmarks, tuple(eye_centres))


def face_landmarks(surface_z, lip_z: float, mouth_y: float, mouth_half_width: float, eye, eye_middle: float,
                   nose_y: float, chin_y: float) -> FaceLandmarks:
    """Landmarks of a head built here, from its sculpting constants and its surface depth surface_z(x, y).

    eye_middle: how far the eye opening's middle lies above the eye's row (its rims are uneven).
    """
    eye_x, eye_y = eye
    return FaceLandmarks(
        mouth_center=np.array([0.0, mouth_y, lip_z]),
        mouth_left=np.array([mouth_half_width, mouth_y, surface_z(mouth_half_width, mouth_y)]),
        mouth_right=np.array([-mouth_half_width, mouth_y, surface_z(-mouth_half_width, mouth_y)]),
        eye_left=np.array([eye_x, eye_y + eye_middle, surface_z(eye_x, eye_y)]),
        eye_right=np.array([-eye_x, eye_y + eye_middle, surface_z(-eye_x, eye_y)]),
        nose_tip=np.array([0.0, nose_y, surface_z(0.0, nose_y)]),
        chin=np.array([0.0, chin_y, surface_z(0.0, chin_y)]),
    )


def head_shape_keys(head: HeadMesh) -> np.ndarray:
    """(52, V, 3) ARKit shape-key offsets: skin gets every field; inner parts only what moves them."""
    fields = arkit_displacements(head.vertices, head.landmarks)
    parts = head.vertex_parts
    skin = np.isin(parts, [PARTS.index("skin"), PARTS.index("lips")])
    inner = ~skin
    jaw_rows = [ARKIT_INDEX[n] for n in JAW_SHAPES]
    keep = np.zeros((len(ARKIT_NAMES), len(parts)), dtype=bool)
    keep[:, skin] = True
    keep[np.ix_(jaw_rows, inner)] = True  # lower teeth and the cavity's floor follow the jaw
    fields = fields * keep[:, :, None]
    for name, side, (member, offsets) in gaze_rotations(head.vertices, parts == PARTS.index("eye_white"), head.eye_centres):
        fields[ARKIT_INDEX[f"{name}{side}"], member] = offsets
    return fields


def gaze_rotations(vertices: np.ndarray, eyes: np.ndarray, eye_centres):
    """(shape, side, (eyeball vertex mask, their offsets)) for the eight eyeLook shapes: each eyeball turns 0.35 rad."""
    out = []
    for name, axis, sign in (("eyeLookUp", 0, -1), ("eyeLookDown", 0, 1), ("eyeLookIn", 1, 1), ("eyeLookOut", 1, -1)):
        for side, centre, mirror in (("Left", eye_centres[0], 1), ("Right", eye_centres[1], -1)):
            member = eyes & (np.sign(vertices[:, 0]) == mirror)
            angle = 0.35 * sign
            if name == "eyeLookIn":
                angle = -0.35 * mirror
            if name == "eyeLookOut":
                angle = 0.35 * mirror
            out.append((name, side, (member, _rotate(vertices[member], centre, axis, angle))))
    return out


def _rotate(points: np.ndarray, centre: np.ndarray, axis: int, angle: float) -> np.ndarray:
    """Displacement of points rotated about an axis through centre (0: x, pitch; 1: y, yaw)."""
    c, s = np.cos(angle), np.sin(angle)
    p = points - centre
    if axis == 0:
        rotated = np.stack([p[:, 0], c * p[:, 1] - s * p[:, 2], s * p[:, 1] + c * p[:, 2]], -1)
    else:
        rotated = np.stack([c * p[:, 0] + s * p[:, 2], p[:, 1], -s * p[:, 0] + c * p[:, 2]], -1)
    return rotated - p
