"""Export round trip without a model process: keyed face → .glb (morph weights) and .fbx (shape keys)."""

from __future__ import annotations

import json
import struct

import pytest

from .helpers import flame_addon_rig, mesh_with_keys, ramp_curves

ARKIT_EIGHT = ["jawOpen", "mouthClose", "eyeBlinkLeft", "browInnerUp", "mouthSmileLeft", "mouthSmileRight",
               "cheekPuff", "tongueOut"]


def read_glb_json(path) -> dict:
    data = path.read_bytes()
    magic, version, total = struct.unpack_from("<III", data, 0)
    assert (magic, version, total) == (0x46546C67, 2, len(data))  # "glTF" v2
    length, kind = struct.unpack_from("<II", data, 12)
    assert kind == 0x4E4F534A  # JSON chunk
    return json.loads(data[20:20 + length])


@pytest.fixture
def keyed_face(scene, blender, addon):
    obj = mesh_with_keys("Face", ARKIT_EIGHT, vertices=[(0, 0, 0), (1, 0, 0), (0, 0, 1)])
    for i, block in enumerate(obj.data.shape_keys.key_blocks[1:]):
        block.data[2].co.z += 0.1 * (i + 1)  # every key moves a vertex, or exporters may drop it
    scene.avi_talking.target = obj
    addon("curves_writer").apply_curves(scene, obj, ramp_curves(40), start_frame=101, action_name="AVI_line")
    return obj


def test_glb_carries_morph_target_weights_for_every_keyed_frame(keyed_face, blender, tmp_path):
    path = tmp_path / "face.glb"
    assert blender.ops.avi_talking.export_animation(filepath=str(path), format="GLB") == {"FINISHED"}
    gltf = read_glb_json(path)
    assert len(gltf["meshes"][0]["primitives"][0]["targets"]) == 8
    names = gltf["meshes"][0].get("extras", {}).get("targetNames", [])
    assert "jawOpen" in names
    channels = [(a, c) for a in gltf["animations"] for c in a["channels"] if c["target"]["path"] == "weights"]
    assert len(channels) == 1, "one weights channel for the face"
    animation, channel = channels[0]
    sampler = animation["samplers"][channel["sampler"]]
    times = gltf["accessors"][sampler["input"]]
    assert times["count"] == 40  # one sample per keyed frame
    assert times["max"][0] - times["min"][0] == pytest.approx(39 / 25, abs=1e-4)
    assert gltf["accessors"][sampler["output"]]["count"] == 40 * 8


def test_fbx_carries_the_shape_key_animation(keyed_face, blender, tmp_path):
    path = tmp_path / "face.fbx"
    assert blender.ops.avi_talking.export_animation(filepath=str(path), format="FBX") == {"FINISHED"}
    data = path.read_bytes()
    assert data.startswith(b"Kaydara FBX Binary") and len(data) > 10_000
    assert b"jawOpen" in data and b"AnimationCurve" in data


def test_export_needs_generated_animation(scene, blender, tmp_path):
    scene.avi_talking.target = mesh_with_keys("Face", ARKIT_EIGHT)
    with pytest.raises(RuntimeError, match="no shape-key animation: run Generate first"):
        blender.ops.avi_talking.export_animation(filepath=str(tmp_path / "face.glb"), format="GLB")
    assert not (tmp_path / "face.glb").exists()


@pytest.mark.parametrize("file_format", ["GLB", "FBX"])
@pytest.mark.parametrize("face", ["demo head", "FLAME rig"])
def test_exports_without_deforming_each_frame_write_the_same_file(scene, blender, addon, tmp_path, file_format,
                                                                  face):
    # A dense face with a take, one key the animator muted and one they keyed by hand (the FLAME rig
    # also has its jaw bone): the fast export must write what the exporter writes when it deforms the
    # mesh at every frame.
    if face == "demo head":
        blender.ops.avi_talking.add_demo_head()
        head, muted, hand_keyed = scene.avi_talking.target, "cheekPuff", "browDownLeft"
    else:
        head, muted, hand_keyed = flame_addon_rig(scene), "Exp7", "Exp9"
        scene.avi_talking.target = head
    addon("curves_writer").apply_curves(scene, head, ramp_curves(30), start_frame=11, action_name="AVI_line")
    keys = head.data.shape_keys
    keys.key_blocks[muted].mute = True
    keys.key_blocks[hand_keyed].value = 0.4
    keys.key_blocks[hand_keyed].keyframe_insert("value", frame=20)
    export = addon("operators.export")
    target, frames = export.animated_face(scene)
    # The demo head's weights are sampled by the add-on (glb_weights); the FLAME rig's jaw bone leaves
    # everything to the exporter.
    assert export._only_its_keys_move(target.obj, target.jaw_bone) == (face == "demo head")
    fast, reference = tmp_path / f"fast.{file_format}", tmp_path / f"reference.{file_format}"
    export.export_face(blender.context, target, frames, fast, file_format)
    assert keys.use_relative and [b.name for b in keys.key_blocks if b.mute] == [muted], "settings come back"
    export.export_face(blender.context, target, frames, reference, file_format, deform_each_frame=True)
    fast_bytes, reference_bytes = fast.read_bytes(), reference.read_bytes()
    assert len(fast_bytes) == len(reference_bytes) > 100_000
    differing = [i for i, (a, b) in enumerate(zip(fast_bytes, reference_bytes)) if a != b]
    # Blender 4.2 and 4.5 write a zero weight as -0.0 on one path and 0.0 on the other; FBX's header carries
    # the time the file was written.
    differing = [i for i in differing if not zero_signs_differ(fast_bytes, reference_bytes, i)]
    assert differing == [] if file_format == "GLB" else all(i < 1000 for i in differing), differing[:10]


def zero_signs_differ(first: bytes, second: bytes, offset: int) -> bool:
    """Byte `offset` is the sign byte of a little-endian float zero, 0.0 in one file and -0.0 in the other."""
    return ({first[offset], second[offset]} == {0x00, 0x80} and offset >= 3
            and first[offset - 3:offset] == second[offset - 3:offset] == b"\0\0\0")


def weights_channel(gltf: dict, data: bytes, part: str) -> tuple[list[float], dict]:
    """The floats of the face's weights channel's sampler `part` ("input": times, "output": weights), read
    from the binary chunk, and the channel."""
    ((animation, channel),) = [(a, c) for a in gltf["animations"] for c in a["channels"] if c["target"]["path"] == "weights"]
    accessor = gltf["accessors"][animation["samplers"][channel["sampler"]][part]]
    view = gltf["bufferViews"][accessor["bufferView"]]
    start = 28 + struct.unpack_from("<I", data, 12)[0] + view.get("byteOffset", 0)  # after the JSON chunk
    return list(struct.unpack_from(f"<{accessor['count']}f", data, start)), channel


def weights_times(gltf: dict, data: bytes) -> list[float]:
    """The input times of the face's weights channel."""
    return weights_channel(gltf, data, "input")[0]


@pytest.mark.parametrize("face", ["demo head", "FLAME rig"])
def test_glb_times_follow_an_ntsc_frame_rate(scene, blender, addon, tmp_path, face):
    """29.97 fps is 30 / 1.001: the last of 40 keys is 39 × 1.001 / 30 s after the first, where the sound is
    (Blender's exporter, which the FLAME rig's jaw bone goes through, writes 39 / (30 × 1.001))."""
    if face == "demo head":
        blender.ops.avi_talking.add_demo_head()
        head = scene.avi_talking.target
    else:
        head = flame_addon_rig(scene)
        scene.avi_talking.target = head
    scene.render.fps, scene.render.fps_base = 30, 1.001
    addon("curves_writer").apply_curves(scene, head, ramp_curves(40, fps=30 / 1.001), start_frame=11, action_name="AVI_line")
    path = tmp_path / "ntsc.glb"
    assert blender.ops.avi_talking.export_animation(filepath=str(path), format="GLB") == {"FINISHED"}
    gltf = read_glb_json(path)
    times = weights_times(gltf, path.read_bytes())
    assert len(times) == 40 and times[0] == 0.0
    assert times[-1] == pytest.approx(39 * 1.001 / 30, abs=1e-5)
    inputs = [gltf["accessors"][s["input"]] for a in gltf["animations"] for s in a["samplers"]]
    assert all(i["max"][0] == pytest.approx(39 * 1.001 / 30, abs=1e-5) for i in inputs)  # the jaw's too


def test_a_face_moved_by_its_object_keys_keeps_that_motion_in_the_glb(keyed_face, scene, blender, tmp_path):
    """Head motion keyed on the face's object: the exporter samples the object too, so the file moves it."""
    keyed_face.location = (0, 0, 0)
    keyed_face.keyframe_insert("location", frame=101)
    keyed_face.location = (0, 0.2, 0)
    keyed_face.keyframe_insert("location", frame=140)
    path = tmp_path / "moving.glb"
    assert blender.ops.avi_talking.export_animation(filepath=str(path), format="GLB") == {"FINISHED"}
    paths = {c["target"]["path"] for a in read_glb_json(path)["animations"] for c in a["channels"]}
    assert {"weights", "translation"} <= paths


def weights_at(gltf: dict, data: bytes, name: str) -> list[float]:
    """The face's weight of the morph target `name` at each sampled time."""
    values, channel = weights_channel(gltf, data, "output")
    names = gltf["meshes"][gltf["nodes"][channel["target"]["node"]]["mesh"]]["extras"]["targetNames"]
    return values[names.index(name)::len(names)]



@pytest.mark.parametrize("file_format", ["GLB", "FBX"])
@pytest.mark.parametrize("rig", ["head bone", "no armature"])
def test_exports_carry_the_head_motion(scene, blender, addon, tmp_path, file_format, rig):
    """Re-imported, the file nods the head as Blender played it: the head bone of the armature, or the face
    object itself turning about its neck."""
    import math

    from mathutils import Vector

    from model_server.arkit import ARKIT_NAMES

    from .test_head_rig import FRAMES, PITCH, facing, head_curves, rigged_face

    if rig == "head bone":
        armature, face = rigged_face(blender, "head", False, eyes=True)
        face.vertex_groups.new(name="head").add(range(len(face.data.vertices)), 1.0, "REPLACE")  # skinned
    else:
        face = mesh_with_keys("Face", list(ARKIT_NAMES), vertices=[(0, -0.1, 1.6), (0.08, 0, 1.45), (0, 0, 1.8)])
    for i, block in enumerate(face.data.shape_keys.key_blocks[1:]):
        block.data[2].co.z += 0.001 * (i + 1)  # every key moves a vertex, or exporters may drop it
    scene.avi_talking.target = face
    curves = head_curves()
    curves["arkit"]["weights"] = ramp_curves(FRAMES)["arkit"]["weights"]
    addon("curves_writer").apply_curves(scene, face, curves, start_frame=1, action_name="AVI_line", line="line")
    path = tmp_path / f"head.{file_format.lower()}"
    assert blender.ops.avi_talking.export_animation(filepath=str(path), format=file_format) == {"FINISHED"}

    before = set(blender.data.objects)
    if file_format == "GLB":
        blender.ops.import_scene.gltf(filepath=str(path))
    else:
        blender.ops.import_scene.fbx(filepath=str(path))
    imported = [obj for obj in blender.data.objects if obj not in before]
    if rig == "head bone":
        (moving,) = [obj for obj in imported if obj.type == "ARMATURE"]
    else:
        (moving,) = [obj for obj in imported if obj.type == "MESH"]
    action = moving.animation_data.action
    first, last = (int(round(f)) for f in action.frame_range)
    assert last - first == FRAMES - 1  # every frame of the line, no more
    scene.frame_set(first)
    if rig == "head bone":
        assert math.asin(-facing(moving, "head")[2]) == pytest.approx(0.0, abs=0.01)
        scene.frame_set(last)
        assert math.asin(-facing(moving, "head")[2]) == pytest.approx(PITCH, abs=0.01)  # the nod, in the file
    else:
        start = moving.matrix_world.to_3x3() @ Vector((0, -1, 0))
        scene.frame_set(last)
        end = moving.matrix_world.to_3x3() @ Vector((0, -1, 0))
        # glTF turns the scene y-up and back: compare the front's angle down from where it started
        assert start.angle(end) == pytest.approx(math.acos(math.cos(PITCH) * math.cos(0.15)), abs=0.01)


@pytest.mark.parametrize("file_format", ["FBX", "GLB"])
@pytest.mark.parametrize("stack", [("SUBSURF",), ("ARMATURE",), ("CORRECTIVE_SMOOTH",), ("MIRROR",),
                                   ("MIRROR", "SUBSURF", "ARMATURE")])
def test_a_face_with_modifiers_exports_its_keys_through_them(scene, blender, addon, tmp_path, file_format, stack):
    """What the animator sees: as many points as the modifiers make, and every shape key animated (FBX used
    to drop them all behind a Subdivision; glTF left a Mirror out)."""
    bpy = blender
    mesh = bpy.data.meshes.new("Face")
    mesh.from_pydata([(0.1, 0, 0), (1, 0, 0), (1, 0, 1), (0.1, 0, 1)], [], [(0, 1, 2, 3)])
    face = bpy.data.objects.new("Face", mesh)
    scene.collection.objects.link(face)
    face.shape_key_add(name="Basis")
    for i, name in enumerate(ARKIT_EIGHT):
        face.shape_key_add(name=name).data[2].co.z += 0.1 * (i + 1)
    for kind in stack:
        modifier = face.modifiers.new(kind.lower(), kind)
        if kind == "ARMATURE":
            rig = bpy.data.objects.new("Rig", bpy.data.armatures.new("Rig"))
            scene.collection.objects.link(rig)
            modifier.object = rig
    scene.avi_talking.target = face
    addon("curves_writer").apply_curves(scene, face, ramp_curves(40), start_frame=101, action_name="AVI_line")
    seen = len(face.evaluated_get(bpy.context.evaluated_depsgraph_get()).to_mesh().vertices)
    path = tmp_path / f"face.{file_format.lower()}"
    assert bpy.ops.avi_talking.export_animation(filepath=str(path), format=file_format) == {"FINISHED"}
    assert face.name == "Face" and [m.type for m in face.modifiers] == list(stack)  # the face is as it was
    assert not [o for o in bpy.data.objects if o.name.startswith("Face.")]  # the baked copy is gone

    before = set(bpy.data.objects)
    if file_format == "FBX":
        bpy.ops.import_scene.fbx(filepath=str(path))
    else:
        bpy.ops.import_scene.gltf(filepath=str(path))
    (imported,) = [o for o in bpy.data.objects if o not in before and o.type == "MESH"]
    keys = imported.data.shape_keys
    assert keys is not None and len(keys.key_blocks) == 1 + len(ARKIT_EIGHT)
    assert len(imported.data.vertices) == seen or "SUBSURF" in stack  # Subdivision: the exporters split seams
    animation = keys.animation_data
    assert animation is not None and (animation.action is not None or len(animation.nla_tracks))
    jaw = keys.key_blocks["jawOpen"]
    action = animation.action or animation.nla_tracks[0].strips[0].action
    first, last = (int(round(f)) for f in action.frame_range)
    scene.frame_set(first)
    start = jaw.value
    scene.frame_set(last)
    assert jaw.value - start > 0.9  # the ramp 0 → 1


@pytest.mark.parametrize("file_format", ["GLB", "FBX"])
def test_every_animated_face_goes_into_one_file_on_one_timeline(scene, blender, addon, tmp_path, file_format):
    """Ada's line from frame 1, Ben's from frame 60: one file, time 0 at frame 1, Ben starting 59 frames in."""
    faces = {}
    for name, start in (("Ada", 1), ("Ben", 60)):
        face = mesh_with_keys(name, ARKIT_EIGHT, vertices=[(0, 0, 0), (1, 0, 0), (0, 0, 1)])
        for i, block in enumerate(face.data.shape_keys.key_blocks[1:]):
            block.data[2].co.z += 0.1 * (i + 1)
        line = scene.avi_talking.lines.add()
        line.strip, line.face = name.lower(), face
        addon("curves_writer").apply_curves(scene, face, ramp_curves(40), start_frame=start,
                                                 action_name=f"AVI_{name}", line=name.lower())
        faces[name] = face
    scene.avi_talking.target = faces["Ada"]
    path = tmp_path / f"both.{file_format.lower()}"
    assert blender.ops.avi_talking.export_animation(filepath=str(path), format=file_format) == {"FINISHED"}
    if file_format == "GLB":
        gltf, data = read_glb_json(path), path.read_bytes()
        channels = [(a, c) for a in gltf["animations"] for c in a["channels"] if c["target"]["path"] == "weights"]
        nodes = {gltf["nodes"][c["target"]["node"]]["name"]: (a, c) for a, c in channels}
        assert set(nodes) == {"Ada", "Ben"}
        start = 28 + struct.unpack_from("<I", data, 12)[0]
        for name, (animation, channel) in nodes.items():
            sampler = animation["samplers"][channel["sampler"]]
            times, values = (gltf["accessors"][sampler[k]] for k in ("input", "output"))
            view = gltf["bufferViews"][values["bufferView"]]
            weights = struct.unpack_from(f"<{values['count']}f", data, start + view.get("byteOffset", 0))
            jaw = weights[ARKIT_EIGHT.index("jawOpen")::len(ARKIT_EIGHT)]
            step = (times["max"][0] - times["min"][0]) / (times["count"] - 1)
            rising = next(i for i, w in enumerate(jaw) if w > 0.01) * step  # seconds from time 0
            assert times["min"][0] == 0.0 and times["max"][0] == pytest.approx((60 + 39 - 1) / 25, abs=1e-3)
            assert rising == pytest.approx({"Ada": 1 / 25, "Ben": 60 / 25}[name], abs=0.05)
    else:
        before = set(blender.data.objects)
        blender.ops.import_scene.fbx(filepath=str(path))
        imported = {o.name.split(".")[0]: o for o in blender.data.objects if o not in before and o.type == "MESH"}
        assert set(imported) == {"Ada", "Ben"}
        starts = {}
        for name, obj in imported.items():
            animation = obj.data.shape_keys.animation_data
            action = animation.action or animation.nla_tracks[0].strips[0].action
            jaw = next(fc for fc in addon("nla_layers").fcurves_of(action, getattr(animation, "action_slot", None))
                       if fc.data_path == 'key_blocks["jawOpen"].value')
            starts[name] = next(k.co.x for k in jaw.keyframe_points if k.co.y > 0.01)
        assert starts["Ben"] - starts["Ada"] == pytest.approx(59, abs=1.0)  # their timing, kept
