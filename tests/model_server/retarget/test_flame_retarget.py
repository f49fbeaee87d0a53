"""FLAME files load without chumpy, and the retarget reproduces ARKit motion on FLAME's basis."""

from __future__ import annotations

import numpy as np
import pytest

from model_server.arkit import ARKIT_INDEX
from model_server.errors import InputError
from model_server.retarget.arkit_fields import arkit_displacements
from model_server.retarget.arkit_to_flame import FlameRetarget
from model_server.retarget.flame_model import load_flame_model

from .flame_fixtures import fixture_head, write_chumpy_pickle, write_npz


@pytest.fixture(scope="module")
def flame_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flame")
    return write_npz(folder / "flame.npz"), write_chumpy_pickle(folder / "flame.pkl")


def test_pickle_with_chumpy_arrays_loads_without_chumpy(flame_files):
    npz, pkl = flame_files
    import importlib.util

    assert importlib.util.find_spec("chumpy") is None
    a, b = load_flame_model(npz), load_flame_model(pkl)
    assert a.expression_basis.shape == (50, len(a.v_template), 3)
    np.testing.assert_allclose(a.expression_basis, b.expression_basis)
    np.testing.assert_allclose(a.jaw_joint, b.jaw_joint)


@pytest.mark.parametrize("shape", ["mouthSmileLeft", "mouthFunnel", "browInnerUp", "mouthClose", "eyeBlinkRight"])
def test_retarget_reproduces_arkit_shapes_on_the_flame_basis(flame_files, shape):
    model = load_flame_model(flame_files[0])
    retarget = FlameRetarget.from_flame_model(flame_files[0])
    weights = np.zeros((1, 52))
    weights[0, ARKIT_INDEX[shape]] = 1.0
    expression, _ = retarget.to_flame(weights, np.zeros((1, 3)))
    produced = np.einsum("k,kvc->vc", expression[0], model.expression_basis)
    vertices, _, landmarks = fixture_head()
    wanted = arkit_displacements(vertices, landmarks)[ARKIT_INDEX[shape]]
    # Landmarks are measured from the mesh (as for a real FLAME file), not given: a few % off.
    assert np.linalg.norm(produced - wanted) / np.linalg.norm(wanted) < 0.15
    assert retarget.info["source"] == "flame-model" and retarget.info["fit_relative_residual"] < 0.1


def test_jaw_passes_through_and_jaw_shapes_use_no_expression(flame_files):
    retarget = FlameRetarget.from_flame_model(flame_files[1])
    weights = np.zeros((3, 52))
    weights[:, ARKIT_INDEX["jawOpen"]] = [0.0, 0.5, 1.0]
    jaw = np.array([[0.0, 0, 0], [0.17, 0, 0], [0.35, 0, 0]])
    expression, jaw_out = retarget.to_flame(weights, jaw)
    assert np.abs(expression).max() == 0.0
    np.testing.assert_array_equal(jaw_out, jaw)


def test_mesh_shape_keys_give_the_same_retarget_as_the_file(flame_files):
    model = load_flame_model(flame_files[0])
    from_file = FlameRetarget.from_flame_model(flame_files[0])
    from_mesh = FlameRetarget.from_expression_basis(model.v_template, model.expression_basis, model.faces)
    assert from_mesh.info["source"] == "mesh-shape-keys"
    np.testing.assert_allclose(from_mesh.matrix, from_file.matrix, atol=1e-4)


def test_default_retarget_is_jaw_only():
    retarget = FlameRetarget.default()
    expression, jaw = retarget.to_flame(np.full((4, 52), 0.5), np.full((4, 3), 0.1))
    assert expression.shape == (4, 50) and not expression.any()
    assert (jaw == 0.1).all() and retarget.info["source"] == "default"


def test_jaw_open_offsets_move_only_the_lower_face(flame_files):
    model = load_flame_model(flame_files[0])
    offsets = model.jaw_open_offsets(0.3)
    lower = model.v_template[:, 1] < model.jaw_joint[1] - 0.03
    assert np.linalg.norm(offsets[lower], axis=1).mean() > 0.005
    assert np.abs(offsets[model.v_template[:, 1] > model.jaw_joint[1] + 0.05]).max() == 0.0


@pytest.mark.parametrize("breakage, message", [
    (lambda d: d.pop("shapedirs"), "missing shapedirs"),
    (lambda d: d.update(shapedirs=d["shapedirs"][:, :, :40]), "expression space needs"),
    (lambda d: d.update(v_template=d["v_template"][:, :2]), "v_template must be"),
])
def test_bad_flame_files_get_clear_messages(tmp_path, breakage, message):
    with np.load(write_npz(tmp_path / "ok.npz")) as archive:
        data = {k: archive[k] for k in archive.files}
    breakage(data)
    np.savez(tmp_path / "bad.npz", **data)
    with pytest.raises(InputError, match=message):
        load_flame_model(tmp_path / "bad.npz")


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(InputError, match="FLAME model not found"):
        load_flame_model(tmp_path / "generic_model.pkl")
    (tmp_path / "junk.pkl").write_bytes(b"not a pickle")
    with pytest.raises(InputError, match="cannot read as a FLAME model"):
        load_flame_model(tmp_path / "junk.pkl")


def test_shapedirs_split_follows_the_documented_layout_or_the_given_one(tmp_path):
    with np.load(write_npz(tmp_path / "full.npz")) as archive:
        data = {k: archive[k] for k in archive.files}
    full = load_flame_model(tmp_path / "full.npz").expression_basis
    np.savez(tmp_path / "trimmed.npz", **dict(data, shapedirs=data["shapedirs"][:, :, 200:]))  # 100 shape + 100 expression
    np.testing.assert_allclose(load_flame_model(tmp_path / "trimmed.npz").expression_basis, full)
    np.savez(tmp_path / "odd.npz", **dict(data, shapedirs=data["shapedirs"][:, :, 250:360]))  # 50 shape + 60 expression
    np.testing.assert_allclose(load_flame_model(tmp_path / "odd.npz", shape_components=50).expression_basis, full)


def test_template_landmarks_are_measured_from_the_geometry(flame_files):
    vertices, _, given = fixture_head()
    measured = load_flame_model(flame_files[1]).landmarks()
    scale = given.eye_distance
    for name in ("mouth_center", "eye_left", "eye_right"):
        assert np.linalg.norm(getattr(measured, name) - getattr(given, name)) < 0.05 * scale, name
    assert measured.eye_left[0] > 0 > measured.eye_right[0]  # +x is the subject's left
    assert measured.nose_tip[2] == vertices[:, 2].max()


def test_fit_is_weighted_to_the_face_and_reports_its_residual(flame_files):
    info = FlameRetarget.from_flame_model(flame_files[0]).info
    assert info["fit_relative_residual"] < 0.1 and info["fit_relative_residual_max"] < 0.6
    assert FlameRetarget.from_flame_model(flame_files[0]) is FlameRetarget.from_flame_model(flame_files[0])  # cached
