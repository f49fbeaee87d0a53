"""Geometry of the demo head, in numpy: a bust whose 52 ARKit shapes read at a glance.

Skin with a neck, painted brows and lash lines, eyelids over eyeballs, a mouth bag joined to the
lips' inner edge (so no shape can open a hole behind them), teeth and a tongue. Coordinates follow
FLAME's frame (metres, +x the subject's left, +y up, +z out of the face) so the ARKit fields that
define the FLAME retarget also define the demo head's shape keys; the Blender build script rotates
it into Blender's Z-up, face-towards-−Y convention.

The first head (scripts/reference_head_geometry.py) is kept unchanged as the evaluation's
measuring mesh; this one is what animators see.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model_server.arkit import ARKIT_INDEX, ARKIT_NAMES
from model_server.retarget.arkit_fields import (JAW_OPEN_RADIANS, JAW_SHAPES, FaceRegions, arkit_displacements,
                                                rotate_about_x)
import reference_head_geometry
from reference_head_geometry import _grid_faces, _sphere, face_landmarks, gaze_rotations

MOUTH_Y, MOUTH_HALF_WIDTH, LIP_GAP = -0.050, 0.0245, 0.0005
EYE_X, EYE_Y, EYE_HALF_WIDTH = 0.032, 0.030, 0.0116  # narrower than the eyeball, which fills the corners
EYE_GAP, LID_UPPER, LID_LOWER, LID_REACH = 0.0008, 0.0047, 0.0021, 0.015  # rim heights above/below EYE_Y
BROW_Y = EYE_Y + 0.019  # the painted brow's middle line
NOSE_Y = -0.010
FRONT_DENSITY = 0.5  # azimuth warp: columns this much denser at the front, sparser at the back
TOP_Y, NECK_Y = 0.118, -0.175  # crown and the neck's cut
EYEBALL_RADIUS = 0.0128
TEETH_DEPTH = 0.0145  # from the lips' front to the front of the upper teeth
SEAM_BAND = 0.011  # lip vertices this close to the seam move towards it less, so the rims never cross
CORNER_PINCH = 0.005  # the last metres of the slit towards each corner, which open less and less
PARTS = ("skin", "lips", "eye_white", "iris", "pupil", "teeth", "mouth", "tongue")
MATERIAL_COLOURS = {"skin": None, "lips": None, "mouth": None,  # None: painted by the colour attribute
                    "eye_white": (0.80, 0.80, 0.78), "iris": (0.10, 0.06, 0.03), "pupil": (0.01, 0.01, 0.01),
                    "teeth": (0.80, 0.77, 0.68), "tongue": (0.36, 0.09, 0.09)}
PAINT = {"skin": (0.52, 0.31, 0.23), "lips": (0.45, 0.13, 0.12), "brows": (0.035, 0.02, 0.012),
           "lash": (0.05, 0.03, 0.02), "mouth": (0.12, 0.02, 0.02), "blush": (0.55, 0.25, 0.2)}  # linear RGB

# Mouth bag rings behind the lips: depth behind the rim, half-width, half-height, share of the
# ellipse (the rest follows the rim's own shape), vertical centre offset. The first two are the
# lips' inner surface; the bag then widens behind the teeth and closes at the throat.
BAG_RINGS = ((0.0025, 0.024, 0.0016, 0.2, 0.0), (0.006, 0.023, 0.0045, 0.55, 0.0),
             (0.0115, 0.0245, 0.0125, 1.0, -0.001), (0.019, 0.0265, 0.016, 1.0, -0.002),
             (0.029, 0.026, 0.017, 1.0, -0.003), (0.040, 0.022, 0.015, 1.0, -0.003),
             (0.049, 0.012, 0.008, 1.0, -0.002))


@dataclass
class HeadMesh(reference_head_geometry.HeadMesh):
    """The reference head's mesh record (colours: brows, lips and lash lines painted), and what the
    shape keys need to know of the mouth."""

    bag_depth: np.ndarray  # (V,) how far behind the lips' rim a mouth-bag vertex is (0 elsewhere)
    bag_lower: np.ndarray  # (V,) 0 on the bag's roof, 1 on its floor, blending around the corners
    lower_rigid: np.ndarray  # (V,) bool: lower teeth and tongue, which move with the jaw bone as one
    tongue: np.ndarray  # (V,) bool


def _smooth(t):
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _lerp_profile(y, knots):
    """Piecewise-smooth profile through (y, value) knots (y descending), smoothstep between them."""
    ys = np.array([k[0] for k in knots])
    vs = np.array([k[1] for k in knots])
    out = np.full_like(np.asarray(y, dtype=np.float64), vs[-1])
    for (y0, v0), (y1, v1) in zip(knots[:-1], knots[1:]):
        inside = (y <= y0) & (y > y1)
        out = np.where(inside, v1 + (v0 - v1) * _smooth((y - y1) / (y0 - y1)), out)
    return np.where(y > ys[0], vs[0], out)


def _round_top(t):
    """A superellipse quarter (exponent 2.5): the cranium is rounder than an ellipse, not egg-pointed."""
    return np.clip(1 - np.abs(np.clip(t, 0, 1)) ** 2.5, 0, 1) ** (1 / 2.5)


def _half_width(y):
    """Half-width at the sides: cranium, cheekbones, jaw, neck."""
    crown = 0.074 * _round_top((y - 0.022) / (TOP_Y - 0.022))
    lower = _lerp_profile(y, [(0.022, 0.074), (-0.005, 0.071), (-0.060, 0.062), (-0.092, 0.055),
                              (-0.112, 0.049), (NECK_Y, 0.050)])
    return np.where(y > 0.022, crown, lower)


def _front_depth(y):
    """How far the face's front stands out of the head's axis, forehead sloping back to the crown."""
    crown = 0.091 * _round_top((y - 0.048) / (TOP_Y + 0.003 - 0.048)) + 0.004
    lower = _lerp_profile(y, [(0.048, 0.095), (0.0, 0.092), (-0.070, 0.088), (-0.090, 0.079),
                              (-0.100, 0.060), (-0.110, 0.040), (-0.125, 0.036), (NECK_Y, 0.040)])
    return np.where(y > 0.048, crown, lower)


def _back_depth(y):
    crown = 0.098 * _round_top((y - 0.015) / (TOP_Y - 0.015))
    lower = _lerp_profile(y, [(0.015, 0.098), (-0.04, 0.088), (-0.085, 0.062), (-0.11, 0.050), (NECK_Y, 0.052)])
    return np.where(y > 0.015, crown, lower)


def _rows() -> np.ndarray:
    """Row heights: even on the cranium and neck, dense at the brows, lids, nose and lips."""
    base = list(np.linspace(NECK_Y, TOP_Y - 0.001, 84))
    dense = ((MOUTH_Y, (LIP_GAP, 0.0018, 0.0032, 0.005, 0.0072, 0.0098, 0.013, 0.017)),
             (EYE_Y, (EYE_GAP, 0.0025, 0.0042, 0.006, 0.0085, 0.012)))
    for centre, offsets in dense:  # the dense rows replace the even ones there (none inside a slit)
        base = [b for b in base if abs(b - centre) > max(offsets) + 0.001]
    for centre, offsets in dense:
        for o in offsets:
            base += [centre + o, centre - o]
    base += list(np.arange(EYE_Y + 0.0135, EYE_Y + 0.030, 0.0011))  # brows: a crisp painted edge
    base += list(np.arange(-0.098, -0.112, -0.0025))  # under the chin, where the profile turns
    rows = np.unique(np.round(base, 5))
    return rows[np.concatenate([[True], np.diff(rows) > 0.0009])]


def _relief(x, y):
    """Sculpted features on the face's front, as depth added along +z."""
    ax = np.abs(x)

    def g(cx, cy, sx, sy, xx=x):
        return np.exp(-((xx - cx) / sx) ** 2 - ((y - cy) / sy) ** 2)

    upper_lip = np.exp(-(x / MOUTH_HALF_WIDTH) ** 4 - ((y - MOUTH_Y - 0.0042) / 0.0048) ** 2)
    lower_lip = np.exp(-(x / (MOUTH_HALF_WIDTH * 0.92)) ** 4 - ((y - MOUTH_Y + 0.0052) / 0.0055) ** 2)
    return (0.022 * g(0, NOSE_Y, 0.0095, 0.017) + 0.008 * g(0, 0.016, 0.0065, 0.02)     # nose tip, bridge
            + 0.0065 * g(0.0115, NOSE_Y - 0.005, 0.0065, 0.0055, ax)                     # nostril wings
            - 0.0105 * g(EYE_X, EYE_Y, 0.016, 0.011, ax)                                   # eye sockets
            + 0.0055 * g(EYE_X - 0.002, BROW_Y, 0.022, 0.0065, ax)                         # brow ridge
            + 0.002 * g(0, BROW_Y - 0.004, 0.008, 0.008)                                  # glabella
            + 0.0055 * upper_lip + 0.0068 * lower_lip
            - 0.0012 * g(0, MOUTH_Y + 0.011, 0.0035, 0.004)                               # philtrum
            - 0.0032 * g(0, MOUTH_Y - 0.0165, 0.02, 0.0045)                               # chin crease
            + 0.0085 * g(0, MOUTH_Y - 0.034, 0.015, 0.011)                                # chin
            + 0.0045 * g(0.046, -0.008, 0.017, 0.017, ax)                                 # cheekbones
            - 0.002 * g(0.036, MOUTH_Y - 0.004, 0.008, 0.012, ax))                        # beside the mouth


def _skin_point(y, azimuth):
    """Surface point at height y and azimuth (0 = front), with the face features sculpted in."""
    s, c = np.sin(azimuth), np.cos(azimuth)
    x = _half_width(y) * s
    depth = _back_depth(y) + (_front_depth(y) - _back_depth(y)) * (1 + c) / 2
    z = depth * c
    front = np.clip(c, 0, 1) ** 2
    return np.stack([x, y, z + _relief(x, y) * front], axis=-1)


def _eye_u(x):
    """Position across the eye opening: 0 at the middle, ±1 at the corners."""
    return (np.abs(x) - EYE_X) / EYE_HALF_WIDTH


def _open_eyes(heights, x):
    """Spread the rows around each eye's slit into an almond opening (see the reference head)."""
    dy = heights - EYE_Y
    almond = np.sqrt(np.clip(1 - _eye_u(x) ** 2, 0, 1))
    rim = np.where(dy > 0, LID_UPPER, LID_LOWER) * almond
    push = np.clip(rim - EYE_GAP, 0, None) / (1 - EYE_GAP / LID_REACH)
    return heights + np.sign(dy) * push * np.clip(1 - np.abs(dy) / LID_REACH, 0, 1)


def _paint(points, front):
    """Colour per skin vertex: skin, lips, brows, lash lines and a little colour on the cheeks."""
    x, y, ax = points[:, 0], points[:, 1], np.abs(points[:, 0])
    colour = np.tile(PAINT["skin"], (len(points), 1))

    def mix(weight, name):
        nonlocal colour
        w = (np.clip(weight, 0, 1) * front)[:, None]
        colour = colour * (1 - w) + w * np.asarray(PAINT[name])

    mix(0.35 * np.exp(-((ax - 0.045) / 0.016) ** 2 - ((y + 0.012) / 0.014) ** 2), "blush")
    mix(lip_weight(x, y), "lips")
    # Brows: an arc over each eye, thick at the inner end, tapering outwards.
    u = (ax - (EYE_X - 0.017)) / 0.036  # 0 inner end, 1 outer end
    arc = BROW_Y + 0.004 * np.sin(np.pi * np.clip(u, 0, 1) * 0.9) - 0.002 * u
    half = 0.0036 * (1 - 0.6 * np.clip(u, 0, 1))
    inside = _smooth((half - np.abs(y - arc)) / 0.0009 + 0.5) * _smooth(u / 0.12) * _smooth((1 - u) / 0.2)
    mix(inside, "brows")
    # Lash line along the upper lid's rim, so a blink reads as a dark line sweeping down.
    eu = _eye_u(x)
    rim = EYE_Y + LID_UPPER * np.sqrt(np.clip(1 - eu ** 2, 0, 1))
    mix(_smooth((1.05 - np.abs(eu)) / 0.1) * _smooth((0.0011 - np.abs(y - rim - 0.0006)) / 0.0008 + 0.5), "lash")
    return colour


def lip_weight(x, y):
    """1 on the red of the lips, 0 on the skin, with a soft 1 mm border."""
    across = np.clip(1 - (x / (MOUTH_HALF_WIDTH * 1.04)) ** 2, 0, 1)
    dy = y - MOUTH_Y
    height = np.where(dy > 0, 0.0082 * across ** 0.6 * (1 - 0.15 * np.exp(-(x / 0.004) ** 2)), 0.0092 * across ** 0.55)
    return _smooth((height - np.abs(dy)) / 0.0012 + 0.5)


class _Builder:
    """Accumulates vertex blocks and faces with their parts."""

    def __init__(self):
        self.blocks, self.parts, self.faces, self.face_parts = [], [], [], []
        self.count = 0

    def add(self, points, part) -> int:
        offset = self.count
        self.blocks.append(np.asarray(points, dtype=np.float64))
        self.parts.append(np.full(len(points), PARTS.index(part) if isinstance(part, str) else part))
        self.count += len(points)
        return offset

    def face(self, indices, part):
        self.faces.append(tuple(int(i) for i in indices))
        self.face_parts.append(PARTS.index(part))

    def vertices(self):
        return np.concatenate(self.blocks)


def _skin(builder: _Builder, columns: int):
    """The skin grid with the eye openings and the mouth slit; returns the grid and the slit's loop."""
    heights = _rows()
    # Twice as many columns on the face as on the back of the head: brows and lips need them.
    u = np.linspace(-np.pi, np.pi, columns, endpoint=False)
    azimuth = u - FRONT_DENSITY * np.sin(u)
    H, A = np.meshgrid(heights, azimuth, indexing="ij")
    flat = _skin_point(H, A)  # before the eyes open: fixes which column crosses which eye
    H = np.where(flat[..., 2] > 0, _open_eyes(H, flat[..., 0]), H)
    skin = _skin_point(H, A).reshape(-1, 3)
    flat = flat.reshape(-1, 3)
    offset = builder.add(skin, "skin")
    cols, rows = columns, len(heights)
    eye_row = int(np.searchsorted(heights, EYE_Y - EYE_GAP - 1e-7))
    lower_rim_row = int(np.searchsorted(heights, MOUTH_Y - LIP_GAP - 1e-7))
    lips = lip_weight(skin[:, 0], skin[:, 1]) * (skin[:, 2] > 0)
    slit_columns = []
    for face in _grid_faces(rows, cols, 0):
        row, col = face[0] // cols, face[0] % cols
        centre = skin[list(face)].mean(axis=0)
        front = centre[2] > 0
        if front and row == lower_rim_row and abs(centre[0]) < MOUTH_HALF_WIDTH:
            slit_columns.append(col)
            continue
        if front and row == eye_row and abs(_eye_u(flat[list(face)][:, 0].mean())) < 1:
            continue
        builder.face([offset + i for i in face], "lips" if front and lips[list(face)].max() > 0.5 else "skin")
    # The crown: a fan onto one pole vertex, so the top of the head has no pinhole.
    pole = builder.add([[0.0, TOP_Y + 0.0005, 0.003]], "skin")
    top = (rows - 1) * cols
    for c in range(cols):
        builder.face((offset + top + c, offset + top + (c + 1) % cols, pole), "skin")
    c0, c1 = min(slit_columns), max(slit_columns) + 1
    lower = [offset + lower_rim_row * cols + c for c in range(c0, c1 + 1)]
    upper = [offset + (lower_rim_row + 1) * cols + c for c in range(c1, c0 - 1, -1)]
    return skin, lips, lower + upper  # the slit's boundary loop, counter-clockwise seen from the front


def _mouth_bag(builder: _Builder, loop: list[int], skin_all: np.ndarray, lip_z: float):
    """Rings from the lips' inner edge back into the mouth, closed at the throat; returns depth per vertex."""
    rim = skin_all[loop]
    corner = np.abs(rim[:, 0]).max() * 1.03
    theta = np.arccos(np.clip(rim[:, 0] / corner, -1, 1)) * np.where(rim[:, 1] >= MOUTH_Y, 1, -1)
    previous, depths, lower = loop, [], []
    floor = lower_lip_share(rim[:, 0], rim[:, 1] - MOUTH_Y)  # each ring moves like the rim in front of it
    for k, (depth, half_w, half_h, share, dy) in enumerate(BAG_RINGS):
        ellipse = np.stack([half_w * np.cos(theta), MOUTH_Y + dy + half_h * np.sin(theta),
                            lip_z - depth - 9.0 * (half_w * np.cos(theta)) ** 2], -1)
        behind = rim + [0, 0, -depth]
        ring = (1 - share) * behind + share * ellipse
        start = builder.add(ring, "mouth")
        current = list(range(start, start + len(ring)))
        part = "lips" if k == 0 else "mouth"
        for i in range(len(loop)):
            j = (i + 1) % len(loop)
            builder.face((previous[i], previous[j], current[j], current[i]), part)  # the skin's winding
        previous = current
        depths.append(np.full(len(ring), depth))
        lower.append(floor)
    end = BAG_RINGS[-1]
    throat = builder.add([[0, MOUTH_Y + end[4], lip_z - end[0] - 0.003]], "mouth")
    for i in range(len(loop)):
        builder.face((previous[i], previous[(i + 1) % len(loop)], throat), "mouth")
    depths.append([end[0] + 0.003])
    lower.append([0.5])
    return np.concatenate(depths), np.concatenate(lower)


def _swept_box(builder: _Builder, arc: np.ndarray, top: float, bottom: float, thickness: float, part: str):
    """A closed band along an arc (x, z pairs): front, back, top, bottom and end caps."""
    tangent = np.gradient(arc, axis=0)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], -1)  # towards the front of the arc
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    back = arc - thickness * normal
    n = len(arc)
    corners = [(arc, top), (arc, bottom), (back, bottom), (back, top)]  # around the cross-section
    start = builder.add(np.concatenate([np.stack([p[:, 0], np.full(n, y), p[:, 1]], -1) for p, y in corners]), part)
    idx = lambda side, i: start + side * n + i  # noqa: E731
    for side in range(4):
        nxt = (side + 1) % 4
        for i in range(n - 1):
            builder.face((idx(side, i), idx(side, i + 1), idx(nxt, i + 1), idx(nxt, i)), part)
    builder.face([idx(s, 0) for s in range(4)], part)
    builder.face([idx(s, n - 1) for s in reversed(range(4))], part)
    return start, start + 4 * n


def _teeth_and_tongue(builder: _Builder, lip_z: float):
    """Upper teeth (fixed), lower teeth and tongue (moving with the jaw); returns index ranges."""
    angles = np.linspace(-0.95, 0.95, 17)
    front = lip_z - TEETH_DEPTH
    upper_arc = np.stack([0.0205 * np.sin(angles), front - 0.017 * (1 - np.cos(angles))], -1)
    lower_arc = np.stack([0.0185 * np.sin(angles), front - 0.0032 - 0.016 * (1 - np.cos(angles))], -1)
    # The upper incisors show just below the upper lip when the jaw drops; the lower arch sits
    # behind them (an overbite), so the two rows never touch.
    upper = _swept_box(builder, upper_arc, MOUTH_Y + 0.0078, MOUTH_Y - 0.0022, 0.0028, "teeth")
    lower = _swept_box(builder, lower_arc, MOUTH_Y - 0.0014, MOUTH_Y - 0.0090, 0.0026, "teeth")
    start = builder.count
    points, faces = _sphere((0, 0, 0), (1, 1, 1), 10, 20, start)
    points = points * [0.013, 0.0045, 0.012]
    points[:, 1] = np.where(points[:, 1] > 0, points[:, 1], points[:, 1] * 0.6)  # flatter underneath
    points += [0, MOUTH_Y - 0.0075, front - 0.0175]
    builder.add(points, "tongue")
    for face in faces:
        builder.face(face, "tongue")
    return upper, lower, (start, builder.count)


def build_head(columns: int = 160) -> HeadMesh:
    builder = _Builder()
    skin, lips, loop = _skin(builder, columns)

    def surface_z(x, y):
        return float(_skin_point(np.array(y), np.arcsin(np.clip(x / _half_width(np.array(y)), -1, 1)))[2])

    lip_z = surface_z(0.0, MOUTH_Y)
    skin_all = builder.vertices()
    bag_start = builder.count
    bag_depths, bag_floor = _mouth_bag(builder, loop, skin_all, lip_z)
    eye_centres = []
    for side in (1, -1):
        centre = np.array([side * EYE_X, EYE_Y, surface_z(side * EYE_X, EYE_Y) - EYEBALL_RADIUS - 0.0022])
        eye_centres.append(centre)
        start = builder.count
        points, faces = _sphere(centre, (EYEBALL_RADIUS,) * 3, 16, 28, start)
        builder.add(points, "eye_white")
        for face in faces:
            facing = (points[[i - start for i in face]].mean(axis=0) - centre)[2] / EYEBALL_RADIUS
            builder.face(face, "pupil" if facing > 0.975 else "iris" if facing > 0.88 else "eye_white")
    _, lower_teeth, tongue = _teeth_and_tongue(builder, lip_z)

    vertices = builder.vertices()
    parts = np.concatenate(builder.parts)
    count = len(vertices)
    bag_depth = np.zeros(count)
    bag_depth[bag_start:bag_start + len(bag_depths)] = bag_depths
    bag_lower = np.zeros(count)
    bag_lower[bag_start:bag_start + len(bag_depths)] = bag_floor
    lower_rigid = np.zeros(count, dtype=bool)
    lower_rigid[slice(*lower_teeth)] = lower_rigid[slice(*tongue)] = True
    tongue_mask = np.zeros(count, dtype=bool)
    tongue_mask[slice(*tongue)] = True
    colours = np.tile(PAINT["mouth"], (count, 1))
    colours[: len(skin)] = _paint(skin, (skin[:, 2] > 0).astype(float))
    colours[len(skin)] = PAINT["skin"]  # the crown's pole
    inner_lip = bag_start + np.arange(len(loop))  # the lips' inner surface stays lip-coloured
    colours[inner_lip] = 0.8 * np.asarray(PAINT["lips"])
    landmarks = face_landmarks(surface_z, lip_z, MOUTH_Y, MOUTH_HALF_WIDTH, (EYE_X, EYE_Y),
                               (LID_UPPER - LID_LOWER) / 2, NOSE_Y, MOUTH_Y - 0.034)
    return HeadMesh(vertices, builder.faces, builder.face_parts, parts, colours, landmarks, tuple(eye_centres),
                    bag_depth, bag_lower, lower_rigid, tongue_mask)


SEAM_GUARDED = ("mouthPressLeft", "mouthPressRight", "mouthShrugLower", "mouthRollLower", "mouthRollUpper")
ROLL_DEPTH_SHARE = 0.6  # the lips roll over the teeth: less of the field's backward travel
WIDE_SHARE = 0.6  # of the field's eyeWide lift; more would pull the lid off the eyeball
# A stylised head reads its expression from brows, lids and cheeks, as cartoon faces do: those shapes go
# further than the measured fields, so a furious and a delighted take differ in a thumbnail.
READABLE_GAIN = {"browDownLeft": 1.8, "browDownRight": 1.8, "browInnerUp": 1.6, "browOuterUpLeft": 1.5,
                 "browOuterUpRight": 1.5, "cheekSquintLeft": 1.7, "cheekSquintRight": 1.7, "noseSneerLeft": 1.5,
                 "noseSneerRight": 1.5, "eyeSquintLeft": 1.4, "eyeSquintRight": 1.4}
SIDEWAYS_LAG = 0.7  # of the jaw bone's sideways travel that skin and mouth bag follow
JAW_CLEARANCE = 0.25  # of jawOpen that jawLeft, jawRight and jawForward add
TONGUE_JAW_SHARE = 0.7  # of jawOpen that tongueOut adds
NECK_FALL = 0.041  # metres under the chin over which the jaw's share falls to nothing


def lower_lip_share(x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """0 where a vertex moves with the upper lip, 1 with the lower; a soft blend near the corners.

    Hard (a 1 mm band) along the slit up to CORNER_PINCH from each corner, then a band that grows
    1.5 mm per mm outwards, so the corners themselves move as one.
    """
    band = 0.001 + 1.5 * np.clip(np.abs(x) - (MOUTH_HALF_WIDTH - CORNER_PINCH), 0, None)
    return _smooth(0.5 - dy / band)


def _across_seam(v: np.ndarray, head: HeadMesh, member: np.ndarray, of) -> np.ndarray:
    """of(points) for the member vertices, with the fields' split at the seam softened.

    The fields split upper from lower lip at the seam, which on the skin is the mouth slit. Beyond
    the corners and inside the mouth bag there is no slit, so the split would shear the mesh:
    there each vertex takes a blend of the upper lip's value and the lower lip's (each evaluated
    at the vertex mirrored to that side of the seam), by lower_lip_share; the bag like the rim in
    front of it. A mouth so opens as a lens whose corners stay joined.
    """
    index = np.flatnonzero(member)
    p = v[index]
    dy = p[:, 1] - MOUTH_Y
    upper, lower = p.copy(), p.copy()
    upper[:, 1] = MOUTH_Y + np.abs(dy) + 1e-5
    lower[:, 1] = MOUTH_Y - np.abs(dy) - 1e-5
    b = np.where(head.bag_depth[index] > 0, head.bag_lower[index], lower_lip_share(p[:, 0], dy))
    above, below = of(upper), of(lower)
    vertex_axis = 1 if above.ndim == 3 else 0  # (52, V, 3) fields or (V,) weights
    b = np.expand_dims(b, [i for i in range(above.ndim) if i != vertex_axis])
    return (1 - b) * above + b * below


def _jaw_weight(v: np.ndarray, head: HeadMesh) -> np.ndarray:
    """(V,) how much of the jaw's motion each vertex takes: the whole lower lip and chin.

    The lower side of the seam fully (lower_lip_share; the fields' own jaw region leaves a third
    of it at the lower lip's rim, which would tear the rim from the bag behind it), as far across
    as the fields' jaw reaches; under the chin the share falls evenly down the neck and towards
    the neck's sides (so the skin under the chin slides back over the throat without folding into
    it). Lower teeth and tongue all of it.
    """
    scale, centre = head.landmarks.eye_distance, head.landmarks.mouth_center
    pivot = (head.landmarks.jaw_pivot - centre) / scale
    weight = FaceRegions((v - centre) / scale, pivot).jaw_sides * lower_lip_share(v[:, 0], v[:, 1] - MOUTH_Y)
    top = head.landmarks.chin[1] - 0.010
    weight *= np.clip((v[:, 1] - (top - NECK_FALL)) / NECK_FALL, 0, 1) * _smooth(v[:, 2] / 0.03)
    bag = head.bag_depth > 0
    weight[bag] = head.bag_lower[bag]
    weight[head.lower_rigid] = 1.0
    return weight


def head_shape_keys(head: HeadMesh) -> np.ndarray:
    """(52, V, 3) ARKit shape-key offsets.

    Skin and mouth bag get the ARKit fields, with corrections that a closed mouth needs:
    - inside the bag, roof and floor blend around the corners (the fields split the lips at the
      seam, which the bag, unlike the lips, does not have); lip shapes fade out along the bag
      before the teeth (lips move, the throat does not); the floor turns with the jaw as one piece,
      like the lower teeth and the tongue;
    - shapes that push a lip towards the other (press, shrug, roll) move it less near the seam,
      so the rims meet instead of passing through each other; mouthClose is not slowed: it takes
      back exactly what jawOpen moved in the lips, corners included;
    - the rolls travel less backwards, so the lips roll over the teeth, not into them; sideways
      and forward jaw shapes drop the jaw a little, so the teeth rows clear each other;
    - the blink closes this head's eye opening exactly, the squint spares the eye's corners, and
      the wide eye stops where the lid would leave the eyeball;
    - jaw shapes fade down the neck and under the chin; tongueOut parts the jaw and lifts the tongue
      (not out past the teeth: see there); the eyeballs turn for the gaze.
    """
    parts, v = head.vertex_parts, head.vertices
    fields = arkit_displacements(v, head.landmarks)
    moving_skin = np.isin(parts, [PARTS.index(p) for p in ("skin", "lips", "mouth")])
    fields[:, ~moving_skin] = 0.0
    bag = head.bag_depth > 0
    seam_member = moving_skin & (bag | (np.abs(v[:, 0]) > MOUTH_HALF_WIDTH - CORNER_PINCH))
    fields[:, seam_member] = _across_seam(v, head, seam_member, lambda p: arkit_displacements(p, head.landmarks))
    jaw_rows = [ARKIT_INDEX[n] for n in JAW_SHAPES]
    lip_rows = [i for i in range(len(ARKIT_NAMES)) if i not in jaw_rows]
    lip_fade = _smooth((0.013 - head.bag_depth) / 0.008)
    fields[np.ix_(lip_rows, np.flatnonzero(moving_skin))] *= lip_fade[moving_skin, None]

    above = v[:, 1] >= MOUTH_Y
    near_seam = _smooth(np.abs(v[:, 1] - MOUTH_Y) / SEAM_BAND)
    for name in SEAM_GUARDED:
        dy = fields[ARKIT_INDEX[name], :, 1]
        towards = np.where(above, dy < 0, dy > 0)
        dy[towards] *= near_seam[towards]
    for name in ("mouthRollLower", "mouthRollUpper"):
        fields[ARKIT_INDEX[name], :, 2] *= ROLL_DEPTH_SHARE
    for name, gain in READABLE_GAIN.items():
        fields[ARKIT_INDEX[name]] *= gain
    for side in ("Left", "Right"):
        blink = fields[ARKIT_INDEX[f"eyeBlink{side}"]]
        blink *= (LID_UPPER + LID_LOWER - 0.0002) / max(-blink[:, 1].min(), 1e-9)
        fields[ARKIT_INDEX[f"eyeWide{side}"]] *= WIDE_SHARE
        # The lids meet at the corners, so a squint lifts the lower lid in the middle only.
        fields[ARKIT_INDEX[f"eyeSquint{side}"]] *= np.clip(1 - _eye_u(v[:, 0]) ** 2, 0, 1)[:, None]

    # The jaw as one rigid motion, each vertex taking its share of it; mouthClose takes the lips'
    # share back, so jawOpen + mouthClose seals them whatever the jaw does.
    moved = moving_skin | head.lower_rigid
    weight = _jaw_weight(v, head)[moved, None]
    scale, centre = head.landmarks.eye_distance, head.landmarks.mouth_center
    pivot = (head.landmarks.jaw_pivot - centre) / scale
    q = (v[moved] - centre) / scale
    fields[ARKIT_INDEX["jawOpen"], moved] = rotate_about_x(q, pivot, JAW_OPEN_RADIANS) * scale * weight
    for name, direction in (("jawLeft", (0.12, 0, 0)), ("jawRight", (-0.12, 0, 0)), ("jawForward", (0, 0, 0.12))):
        fields[ARKIT_INDEX[name], moved] = np.asarray(direction) * scale * weight
        # Soft tissue lags the bone sideways: the lips' corners bunch instead of sliding into the cheek.
        fields[ARKIT_INDEX[name], moving_skin, 0] *= SIDEWAYS_LAG
    for name in ("jawLeft", "jawRight", "jawForward"):
        fields[ARKIT_INDEX[name]] += JAW_CLEARANCE * fields[ARKIT_INDEX["jawOpen"]]

    below = v.copy()  # the lower lip's region, read on both sides of the seam: wherever the jaw moved
    below[:, 1] = MOUTH_Y - np.abs(v[:, 1] - MOUTH_Y) - 1e-5  # a lip (the corners too), it goes back
    closing = FaceRegions((below - centre) / scale, pivot).lower_lip
    fields[ARKIT_INDEX["mouthClose"]] = -fields[ARKIT_INDEX["jawOpen"]] * (closing * lip_fade * moving_skin)[:, None]

    # The jaw drops and the tongue rises to the parted teeth. It does not come out past them: a shape
    # key moves it in a straight line, and at part weight that line runs through the lower teeth.
    tongue_out = TONGUE_JAW_SHARE * fields[ARKIT_INDEX["jawOpen"]]
    tongue_out[head.tongue] += np.array([0.0, 0.003, 0.0])
    fields[ARKIT_INDEX["tongueOut"]] = tongue_out
    eyes = np.isin(parts, [PARTS.index(p) for p in ("eye_white", "iris", "pupil")])
    for name, side, (member, offsets) in gaze_rotations(v, eyes, head.eye_centres):
        fields[ARKIT_INDEX[f"{name}{side}"], member] = offsets
    return fields
