"""Geometry for the vertex metrics: the reference head read from its .glb, FLAME-format heads, lip and upper-face sets."""

from __future__ import annotations

import numpy as np
import pytest

from model_server.arkit import ARKIT_INDEX, ARKIT_NAMES
from model_server.eval.geometry import reference_head_geometry, load_flame_geometry
from model_server.eval.glb import read_glb_mesh
from model_server.retarget.flame_model import load_flame_model
from model_server.synthesis.jaw import jaw_pose_from_arkit

from ..retarget.flame_fixtures import write_npz



@pytest.fixture(scope="module")
def demo():
    return reference_head_geometry()


@pytest.fixture(scope="module")
def flame():
    return load_flame_geometry()


@pytest.fixture(scope="module")
def flame_file(tmp_path_factory):
    return write_npz(tmp_path_factory.mktemp("flame") / "flame.npz")


def weights(**channels) -> np.ndarray:
    w = np.zeros((1, 52))
    for name, value in channels.items():
        w[0, ARKIT_INDEX[name]] = value
    return w


def test_glb_reader_gives_the_demo_heads_morphs_by_arkit_name(repo_root):
    mesh = read_glb_mesh(repo_root / "assets" / "reference_head.glb")
    assert sorted(mesh.target_names) == sorted(ARKIT_NAMES)
    skin = next(p for p in mesh.primitives if p.material == "AVI_skin")
    assert skin.morph_deltas.shape == (52, len(skin.positions), 3)
    assert skin.triangles.max() < len(skin.positions)
    # Sparse morph targets are expanded: jawOpen moves the chin down, eyeBlink moves nothing near the chin.
    chin = np.argmin(skin.positions[:, 1] + 10 * np.abs(skin.positions[:, 0]) - skin.positions[:, 2])
    jaw_open = mesh.target_names.index("jawOpen")
    assert skin.morph_deltas[jaw_open, chin, 1] < -0.005


def test_demo_head_is_in_metres_with_the_face_towards_plus_z(demo):
    height = np.ptp(demo.base[:, 1])
    assert 0.15 < height < 0.3  # a head is about 22 cm tall
    assert demo.landmarks.mouth_center[2] > 0.05 and demo.landmarks.eye_left[0] > 0


@pytest.mark.parametrize("geometry", ["demo", "flame"])
def test_lip_set_is_around_the_mouth_and_upper_face_above_the_nose(geometry, request):
    g = request.getfixturevalue(geometry)
    lips = g.base[g.lip_vertices]
    mouth = g.landmarks.mouth_center
    half_width = np.linalg.norm(g.landmarks.mouth_left - g.landmarks.mouth_right) / 2
    assert len(lips) > 50
    assert np.abs(lips[:, 1] - mouth[1]).max() < 0.6 * half_width
    assert lips[:, 0].min() < -0.8 * half_width and lips[:, 0].max() > 0.8 * half_width  # corner to corner
    upper = g.base[g.upper_face_vertices]
    assert upper[:, 1].min() > g.landmarks.nose_tip[1]
    assert not set(g.lip_vertices) & set(g.upper_face_vertices)


def test_demo_head_lip_set_leaves_out_teeth_and_mouth_cavity(demo, repo_root):
    mesh = read_glb_mesh(repo_root / "assets" / "reference_head.glb")
    sizes = np.cumsum([0] + [len(p.positions) for p in mesh.primitives])
    inner = [i for i, p in enumerate(mesh.primitives) if p.material in ("AVI_teeth", "AVI_mouth")]
    inner_vertices = np.concatenate([np.arange(sizes[i], sizes[i + 1]) for i in inner])
    assert not set(demo.lip_vertices) & set(inner_vertices)


@pytest.mark.parametrize("geometry", ["demo", "flame"])
def test_jaw_opening_lowers_the_lower_lip_not_the_upper_one(geometry, request):
    g = request.getfixturevalue(geometry)
    closed = g.vertices(weights(), g.lip_vertices)[0]
    opened = g.vertices(weights(jawOpen=1.0), g.lip_vertices)[0]
    drop = closed[:, 1] - opened[:, 1]
    below = g.base[g.lip_vertices, 1] < g.landmarks.mouth_center[1]
    assert drop[below].mean() > 0.01  # a centimetre or more at full opening
    assert drop[below].mean() > 5 * np.abs(drop[~below]).mean()


def test_flame_jaw_is_skinned_like_flame_models_jaw_offsets(flame_file):
    g = load_flame_geometry(flame_file)
    model = load_flame_model(flame_file)
    w = weights(jawOpen=0.6)
    angle = jaw_pose_from_arkit(w)[0, 0]
    np.testing.assert_allclose(g.vertices(w)[0] - g.base, model.jaw_open_offsets(angle), atol=1e-12)


def test_flame_expression_follows_the_retarget(flame_file):
    g = load_flame_geometry(flame_file)
    smile = g.vertices(weights(mouthSmileLeft=1.0))[0] - g.base
    corner = np.argmin(np.linalg.norm(g.base - g.landmarks.mouth_left, axis=1))
    other = np.argmin(np.linalg.norm(g.base - g.landmarks.mouth_right, axis=1))
    assert np.linalg.norm(smile[corner]) > 3 * np.linalg.norm(smile[other])  # the subject's left corner moves
