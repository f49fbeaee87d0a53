"""The demo head asset, imported in real Blender: its 52 ARKit keys move the right places.

The asset is read in a child process (a fresh bpy), and every key's offsets come back as numpy.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from model_server.arkit import ARKIT_NAMES

REPO = Path(__file__).resolve().parents[2]
ASSET = REPO / "assets" / "demo_head.glb"


@pytest.fixture(scope="module")
def head_keys(tmp_path_factory) -> dict[str, np.ndarray]:
    """Basis (V, 3) and every shape key's offset from it, Blender frame (Z up, face towards −Y)."""
    out = tmp_path_factory.mktemp("head") / "keys.npz"
    code = textwrap.dedent(f"""
        import bpy, numpy as np
        bpy.ops.wm.read_factory_settings(use_empty=True)
        bpy.ops.import_scene.gltf(filepath={str(ASSET)!r})
        heads = [o for o in bpy.data.objects if o.type == "MESH"]
        assert [o.name for o in heads] == ["AVI_DemoHead"], [o.name for o in heads]
        keys = heads[0].data.shape_keys.key_blocks
        def co(key):
            a = np.zeros(len(key.data) * 3, np.float32); key.data.foreach_get("co", a)
            return a.reshape(-1, 3)
        np.savez({str(out)!r}, names=np.array([k.name for k in keys]), **{{k.name: co(k) for k in keys}})
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(out) as data:
        names = list(data["names"])
        basis = data[names[0]]
        return {"names": names, "basis": basis, **{n: data[n] - basis for n in names[1:]}}


def test_asset_is_small_and_has_exactly_the_52_arkit_keys(head_keys):
    assert ASSET.stat().st_size < 5_000_000
    assert head_keys["names"][1:] == list(ARKIT_NAMES)
    for name in ARKIT_NAMES:
        if name != "tongueOut":  # no tongue geometry
            assert np.abs(head_keys[name]).max() > 5e-4, f"{name} does not move the head"


def lip_rims(basis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the front-most skin vertices just above and just below the mouth slit, mid-mouth."""
    mouth_z = -0.052
    band = (np.abs(basis[:, 0]) < 0.012) & (np.abs(basis[:, 2] - mouth_z) < 0.0025)
    front = band & (basis[:, 1] < basis[band, 1].min() + 0.003)  # the lips, not the teeth behind them
    return front & (basis[:, 2] > mouth_z), front & (basis[:, 2] < mouth_z)


def test_jaw_open_lowers_the_lower_lip_and_mouth_close_seals_it_again(head_keys):
    basis, jaw, close = head_keys["basis"], head_keys["jawOpen"], head_keys["mouthClose"]
    upper, lower = lip_rims(basis)
    assert upper.sum() >= 4 and lower.sum() >= 4

    def gap(offsets):  # vertical lip opening at the middle of the mouth, metres
        moved = basis + offsets
        return moved[upper, 2].mean() - moved[lower, 2].mean()

    closed = gap(0 * jaw)
    assert closed < 0.003
    assert jaw[lower, 2].mean() < -0.006 and np.abs(jaw[upper]).max() < 1e-3  # the lower lip drops alone
    assert gap(jaw) > closed + 0.006
    assert abs(gap(jaw + close) - closed) < 0.2 * (gap(jaw) - closed)  # lips meet again, jaw still open
    chin = basis[:, 2] < -0.09
    assert jaw[chin, 2].min() < -0.005  # the chin goes with the jaw


@pytest.mark.parametrize("side", ["Left", "Right"])
@pytest.mark.parametrize("shape", ["mouthSmile", "eyeBlink", "browOuterUp", "cheekSquint", "mouthFrown", "noseSneer"])
def test_left_shapes_move_the_subjects_left_side_which_is_blender_plus_x(head_keys, shape, side):
    basis, offsets = head_keys["basis"], head_keys[shape + side]
    moved = np.linalg.norm(offsets, axis=1)
    sign = 1 if side == "Left" else -1
    weighted_x = (moved * basis[:, 0]).sum() / moved.sum()
    assert sign * weighted_x > 0.01
    assert moved[sign * basis[:, 0] < -0.005].max() < 0.05 * moved.max()  # the other side stays put


def test_smile_raises_the_corners_and_blink_closes_the_upper_lid(head_keys):
    basis = head_keys["basis"]
    corner = (np.abs(np.abs(basis[:, 0]) - 0.025) < 0.003) & (np.abs(basis[:, 2] + 0.052) < 0.003)
    smile = head_keys["mouthSmileLeft"] + head_keys["mouthSmileRight"]
    assert smile[corner, 2].mean() > 0.003
    blink = head_keys["eyeBlinkLeft"]
    above = (np.abs(basis[:, 0] - 0.032) < 0.004) & (basis[:, 2] > 0.031) & (basis[:, 2] < 0.036)
    below = (np.abs(basis[:, 0] - 0.032) < 0.004) & (basis[:, 2] < 0.027)
    assert blink[above, 2].min() < -0.005  # the upper lid comes down across the 5.5 mm opening
    assert np.abs(blink[below]).max() < 0.1 * np.abs(blink[above]).max()  # the lower lid stays
