"""The demo head asset, imported in real Blender: its 52 ARKit keys move the right places, and no
shape or real take opens a hole or drives one part of the head through another.

The asset is read in a child process (a fresh bpy), and every key's offsets come back as numpy; the
integrity check is scripts/check_demo_head.py run as a process on takes the CLI makes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from model_server.arkit import ARKIT_NAMES

REPO = Path(__file__).resolve().parents[2]
ASSET = REPO / "assets" / "demo_head.glb"
MOUTH_Z, EYE_X, EYE_Z = -0.050, 0.032, 0.030  # Blender frame: the seam's height, the left eye's centre
# Shapes that must keep the lips sealed (mouthClose is checked against jawOpen, which it closes).
SEALING = ("mouthPressLeft", "mouthPressRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower",
           "mouthClose+jawOpen", "mouthLeft", "mouthRight", "cheekPuff")
sys.path.insert(0, str(REPO / "scripts"))
from run_demo import CONTRAST  # noqa: E402  the preview's two opposite instructions

OPPOSITE_INSTRUCTIONS = dict(CONTRAST)


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
        assert np.abs(head_keys[name]).max() > 5e-4, f"{name} does not move the head"


def lip_rims(basis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the front-most skin vertices just above and just below the mouth slit, mid-mouth."""
    mouth_z = MOUTH_Z
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
    corner = (np.abs(np.abs(basis[:, 0]) - 0.0245) < 0.003) & (np.abs(basis[:, 2] - MOUTH_Z) < 0.003)
    smile = head_keys["mouthSmileLeft"] + head_keys["mouthSmileRight"]
    assert smile[corner, 2].mean() > 0.003
    blink = head_keys["eyeBlinkLeft"]
    above = (np.abs(basis[:, 0] - EYE_X) < 0.004) & (basis[:, 2] > EYE_Z + 0.001) & (basis[:, 2] < EYE_Z + 0.006)
    below = (np.abs(basis[:, 0] - EYE_X) < 0.004) & (basis[:, 2] < EYE_Z - 0.003)
    assert blink[above, 2].min() < -0.006  # the upper lid comes down across the 6.8 mm opening
    assert np.abs(blink[below]).max() < 0.1 * np.abs(blink[above]).max()  # the lower lid stays


def test_brows_and_tongue_move_as_their_names_say(head_keys):
    basis = head_keys["basis"]
    brow = (np.abs(basis[:, 0] - EYE_X) < 0.01) & (np.abs(basis[:, 2] - (EYE_Z + 0.019)) < 0.003) & (basis[:, 1] < -0.05)
    assert brow.sum() > 20
    assert head_keys["browDownLeft"][brow, 2].min() < -0.003 and head_keys["browDownLeft"][brow, 2].mean() < -0.0015
    assert head_keys["browOuterUpLeft"][brow, 2].max() > 0.003 and head_keys["browInnerUp"][brow, 2].max() > 0.003
    tongue_out = head_keys["tongueOut"]
    lifted = tongue_out[:, 2] - head_keys["jawOpen"][:, 2] * 0.7  # what the tongue does beyond the jaw's part
    assert lifted.max() > 0.002  # the tongue rises to the parted teeth
    assert head_keys["jawOpen"][:, 2].min() < -0.01  # and the jaw drops with it


def check_head(tmp_path: Path, head: Path, curves: list[Path]) -> dict:
    """scripts/check_demo_head.py as a process: per pose, crossings, inside seen, mouth and eyes seen."""
    out = tmp_path / f"{head.stem}-check.json"
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "check_demo_head.py"), "--head", str(head),
                           "--json", str(out), "--curves", *map(str, curves)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def opposite_takes(tmp_path_factory) -> list[Path]:
    """The demo line animated by the CLI under two opposite instructions."""
    folder = tmp_path_factory.mktemp("takes")
    takes = []
    for name, instruction in OPPOSITE_INSTRUCTIONS.items():
        out = folder / f"{name}.json"
        done = subprocess.run([sys.executable, "-m", "model_server", "animate", str(REPO / "assets" / "demo_speech.wav"),
                               "--transcript-file", str(REPO / "assets" / "demo_speech.txt"), "--instruction", instruction,
                               "--fps", "25", "-o", str(out), "--quiet"],
                              cwd=REPO, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        takes.append(out)
    return takes


def test_no_shape_or_real_take_opens_a_hole_or_crosses_the_head_through_itself(tmp_path, opposite_takes):
    report = check_head(tmp_path, ASSET, opposite_takes)
    rest = report["rest"]
    assert rest["mouth_seen"] > 0 and min(rest["eye_seen"]) > 100  # the rays do reach mouth and eyes
    assert report["jawOpen"]["mouth_seen"] > 5 * rest["mouth_seen"]  # and see the mouth open
    takes = [label for label in report if "@" in label]
    assert len(takes) >= 2 * 20 and {t.split("@")[0] for t in takes} == set(OPPOSITE_INSTRUCTIONS)
    for label, figures in report.items():
        assert figures["crossings"] == 0, (label, figures["crossing_parts"])
        assert figures["inside_seen"] == 0, label  # no fold or hole shows the inside of the skin
    for label in SEALING:
        assert report[label]["mouth_seen"] <= 1.3 * rest["mouth_seen"], label  # the lips stay sealed (jawOpen shows 17x)
    for side, shape in enumerate(("eyeBlinkLeft", "eyeBlinkRight")):
        assert report[shape]["eye_seen"][side] < 0.1 * rest["eye_seen"][side]  # the lid covers the eyeball


def test_the_check_finds_the_holes_and_crossings_of_the_first_head(tmp_path):
    """The same check on the reference head (the first demo head) reports what the new head fixed."""
    report = check_head(tmp_path, REPO / "assets" / "reference_head.glb", [])
    rest = report["rest"]
    assert report["mouthRollLower"]["mouth_seen"] > 3 * rest["mouth_seen"]  # the hole under the lower lip
    assert report["mouthPressLeft"]["crossings"] > 0 and report["mouthRollLower"]["crossings"] > 0


def test_the_previews_opposite_instructions_move_brows_and_mouth_corners_apart(opposite_takes):
    """What the preview shows side by side: the furious take lowers the brows, the delighted one smiles."""
    mean = {}
    for path in opposite_takes:
        arkit = json.loads(path.read_text())["arkit"]
        weights = np.asarray(arkit["weights"])
        mean[path.stem] = {n: weights[:, arkit["names"].index(n)].mean() for n in arkit["names"]}
    furious, delighted = mean["furious"], mean["delighted"]
    assert furious["browDownLeft"] > delighted["browDownLeft"] + 0.1
    assert delighted["mouthSmileLeft"] > furious["mouthSmileLeft"] + 0.1
