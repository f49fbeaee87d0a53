"""Where a face's head and eyes turn: the head and eye bones of the armature that deforms or parents the
face, found by their names in the common rig families (or the head bone the animator picked), else the
face object itself through its delta transform, about the neck pivot.

The curves' head and eye rotations are in the head's frame (x to the speaker's left, y up, z forward;
model_server/nonverbal/head.py). Here that frame is found in the rig: up is the head bone's own direction
(a head bone points up the head), forward is toward the eye bones where the rig has them, else the
armature's -Y (Blender's front); without an armature, the face object's +Z and -Y. A bone turns in its
own rest frame, so a rotation R in the head's frame keys as B⁻¹ · F · R · F⁻¹ · B (F: the head's frame,
B: the bone's rest orientation, both in the armature's space).
"""

from __future__ import annotations

from dataclasses import dataclass

import bpy
from mathutils import Matrix, Vector

# Head bones, best first: Rigify's head control and its deform/original bones, Mixamo, Character Creator 4,
# VRM, Ready Player Me and MetaHuman-style rigs ("Head", "head"); the FLAME add-on's neck joint last.
HEAD_BONE_NAMES = ("head", "Head", "mixamorig:Head", "CC_Base_Head", "J_Bip_C_Head", "ORG-spine.006",
                   "DEF-spine.006", "neck", "Neck")
# Eye bones (left, right) in the same families: Blender and Rigify, Ready Player Me, Character Creator 4,
# VRM, Mixamo, the FLAME add-on.
EYE_BONE_NAMES = (("eye.L", "eye.R"), ("ORG-eye.L", "ORG-eye.R"), ("LeftEye", "RightEye"),
                  ("CC_Base_L_Eye", "CC_Base_R_Eye"), ("J_Adj_L_FaceEye", "J_Adj_R_FaceEye"),
                  ("mixamorig:LeftEye", "mixamorig:RightEye"), ("left_eye", "right_eye"))
EYE_LOOK_KEYS = ("eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
                 "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight")


@dataclass
class HeadRig:
    face: bpy.types.Object
    armature: bpy.types.Object | None = None
    head_bone: str | None = None
    eye_bones: tuple[str, str] | None = None

    @property
    def head_line(self) -> str:
        if self.head_bone is not None:
            return f"Head: bone '{self.head_bone}' of '{self.armature.name}'"
        return f"Head: '{self.face.name}' itself (delta rotation about the neck)"

    def eyes_line(self, eye_keys: bool) -> str:
        if self.eye_bones is not None:
            return f"Eyes: bones '{self.eye_bones[0]}', '{self.eye_bones[1]}'"
        if eye_keys:
            return "Eyes: the eyeLook shape keys"
        return "Eyes: no eye bones and no eyeLook shape keys, so the eyes will not move"


def face_armature(face: bpy.types.Object) -> bpy.types.Object | None:
    """The armature that deforms the face (its Armature modifier), else the one it is parented to."""
    for modifier in face.modifiers:
        if modifier.type == "ARMATURE" and modifier.object is not None and modifier.object.type == "ARMATURE":
            return modifier.object
    parent = face.parent
    return parent if parent is not None and parent.type == "ARMATURE" else None


def find_head_rig(face: bpy.types.Object) -> HeadRig:
    armature = face_armature(face)
    if armature is None or armature.pose is None:  # an armature with no bones has no pose
        return HeadRig(face)
    bones = armature.pose.bones
    picked = getattr(face, "avi_head_bone", "")
    head = picked if picked and picked in bones else next((n for n in HEAD_BONE_NAMES if n in bones), None)
    eyes = next((pair for pair in EYE_BONE_NAMES if pair[0] in bones and pair[1] in bones), None)
    return HeadRig(face, armature if head or eyes else None, head, eyes)


def _rotation(pitch: float, yaw: float, roll: float = 0.0) -> Matrix:
    """R = Ry(yaw) · Rx(pitch) · Rz(roll) in the head's frame (the curves' convention)."""
    return Matrix.Rotation(yaw, 3, "Y") @ Matrix.Rotation(pitch, 3, "X") @ Matrix.Rotation(roll, 3, "Z")


def _frame(up: Vector, forward: Vector) -> Matrix:
    """The head's frame as columns (left, up, forward) in some space, from its up and forward there."""
    up = up.normalized()
    forward = (forward - forward.dot(up) * up).normalized()
    return Matrix((up.cross(forward), up, forward)).transposed()


def _armature_frame(rig: HeadRig) -> Matrix:
    bones = rig.armature.data.bones
    # A bone's Y axis runs along it: the head bone's points up the head (in the armature's space).
    up = bones[rig.head_bone].matrix_local.to_3x3().col[1] if rig.head_bone else Vector((0, 0, 1))
    forward = Vector((0, -1, 0))
    if rig.eye_bones is not None and rig.head_bone is not None:
        eyes = (bones[rig.eye_bones[0]].head_local + bones[rig.eye_bones[1]].head_local) / 2
        toward = eyes - bones[rig.head_bone].head_local
        if (toward - toward.dot(up.normalized()) * up.normalized()).length > 1e-4:
            forward = toward
    if abs(forward.normalized().dot(up.normalized())) > 0.95:  # a rig lying down: fall back to its +Y
        forward = Vector((0, 1, 0))
    return _frame(up, forward)


def _bone_values(pose_bone: bpy.types.PoseBone, local: Matrix) -> tuple[str, tuple[float, ...]]:
    """(data path, values) of a rotation in the bone's own rotation mode."""
    path = f'pose.bones["{bpy.utils.escape_identifier(pose_bone.name)}"]'
    mode = pose_bone.rotation_mode
    if mode == "QUATERNION":
        return f"{path}.rotation_quaternion", tuple(local.to_quaternion())
    if mode == "AXIS_ANGLE":
        axis, angle = local.to_quaternion().to_axis_angle()
        return f"{path}.rotation_axis_angle", (angle, *axis)
    return f"{path}.rotation_euler", tuple(local.to_euler(mode))


def _bone_channels(rig: HeadRig, bone: str, rotations: list[Matrix]) -> dict[str, list[tuple]]:
    to_bone = _to_head_frame(rig, bone)
    channels: dict[str, list[tuple]] = {}
    for rotation in rotations:
        path, values = _bone_values(rig.armature.pose.bones[bone], to_bone @ rotation @ to_bone.transposed())
        channels.setdefault(path, []).append(values)
    return channels


def neck_pivot(face: bpy.types.Object) -> Vector:
    """The neck in the face object's own space: the bottom of its bounding box, centred, where a head
    without an armature turns."""
    corners = [Vector(c) for c in face.bound_box]
    low = min(c.z for c in corners)
    return Vector((sum(c.x for c in corners) / 8, sum(c.y for c in corners) / 8, low))


def _own_basis(face: bpy.types.Object) -> Matrix:
    """The object's own rotation and scale, without its delta transform (matrix_basis includes the deltas,
    which are the head's motion itself: a line generated while the head is turned must not turn twice)."""
    if face.rotation_mode == "QUATERNION":
        rotation = face.rotation_quaternion.to_matrix()
    elif face.rotation_mode == "AXIS_ANGLE":
        angle, *axis = face.rotation_axis_angle
        rotation = Matrix.Rotation(angle, 3, Vector(axis))
    else:
        rotation = face.rotation_euler.to_matrix()
    return rotation @ Matrix.Diagonal(face.scale)


def _object_channels(face: bpy.types.Object, rotations: list[Matrix]) -> dict[str, list[tuple]]:
    """Delta rotation and delta location that turn the face about its neck pivot: a rotation Q (in the
    object's own frame) becomes D = R·Q·R⁻¹ in its parent's space, and the origin moves by (I - D)·R·S·p
    so that the pivot p stays where it is."""
    basis = _own_basis(face)
    turn = basis.normalized()
    pivot = basis @ neck_pivot(face)
    frame = _frame(Vector((0, 0, 1)), Vector((0, -1, 0)))
    rotation_path = "delta_rotation_quaternion" if face.rotation_mode == "QUATERNION" else "delta_rotation_euler"
    order = face.rotation_mode if face.rotation_mode not in ("QUATERNION", "AXIS_ANGLE") else "XYZ"
    channels: dict[str, list[tuple]] = {rotation_path: [], "delta_location": []}
    for rotation in rotations:
        delta = turn @ frame @ rotation @ frame.transposed() @ turn.transposed()
        channels[rotation_path].append(tuple(delta.to_quaternion()) if rotation_path.endswith("quaternion")
                                       else tuple(delta.to_euler(order)))
        channels["delta_location"].append(tuple(pivot - delta @ pivot))
    return channels


def _to_head_frame(rig: HeadRig, bone: str) -> Matrix:
    """The bone's rest orientation relative to the head's frame (a local pose L is F⁻¹·B·L·B⁻¹·F there)."""
    rest = rig.armature.data.bones[bone].matrix_local.to_3x3().normalized()
    return rest.transposed() @ _armature_frame(rig)


def _angles(rotation: Matrix) -> tuple[float, float, float]:
    """(pitch, yaw, roll) of R = Ry(yaw) · Rx(pitch) · Rz(roll): Blender's ZXY Euler order."""
    euler = rotation.to_euler("ZXY")
    return euler.x, euler.y, euler.z


def played_head(rig: HeadRig) -> tuple[float, float, float]:
    """(pitch, yaw, roll) of the head as it plays now (every layer and the animator's keys), in the
    curves' head frame: the inverse of head_channels."""
    if rig.head_bone is not None:
        to_bone = _to_head_frame(rig, rig.head_bone)
        local = rig.armature.pose.bones[rig.head_bone].matrix_basis.to_3x3()
        return _angles(to_bone.transposed() @ local @ to_bone)
    face = rig.face
    turn = _own_basis(face).normalized()
    frame = _frame(Vector((0, 0, 1)), Vector((0, -1, 0)))
    delta = (face.delta_rotation_quaternion.to_matrix() if face.rotation_mode == "QUATERNION"
             else face.delta_rotation_euler.to_matrix())
    return _angles(frame.transposed() @ turn.transposed() @ delta @ turn @ frame)


def played_eyes(rig: HeadRig) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Each eye bone's (yaw, pitch) as it plays now, in the head's frame; None without eye bones."""
    if rig.eye_bones is None:
        return None
    out = []
    for bone in rig.eye_bones:
        to_bone = _to_head_frame(rig, bone)
        pitch, yaw, _ = _angles(to_bone.transposed() @ rig.armature.pose.bones[bone].matrix_basis.to_3x3() @ to_bone)
        out.append((yaw, pitch))
    return out[0], out[1]


def head_channels(rig: HeadRig, rotations: list[tuple[float, float, float]]) \
        -> tuple[bpy.types.ID, dict[str, list[tuple]]]:
    """(what to key, {data path: values per frame}) of the head's rotation, frame by frame (pitch, yaw, roll)."""
    matrices = [_rotation(*r) for r in rotations]
    if rig.head_bone is not None:
        return rig.armature, _bone_channels(rig, rig.head_bone, matrices)
    return rig.face, _object_channels(rig.face, matrices)


def eye_channels(rig: HeadRig, left: list[tuple[float, float]], right: list[tuple[float, float]]) \
        -> dict[str, list[tuple]]:
    """{data path: values per frame} turning the eye bones (each eye's yaw and pitch)."""
    channels = {}
    for bone, angles in zip(rig.eye_bones, (left, right)):
        channels.update(_bone_channels(rig, bone, [_rotation(pitch, yaw) for yaw, pitch in angles]))
    return channels
