"""Generate: speech + (edited) instruction → keyframes on the face, in a new Action."""

from __future__ import annotations

import base64
from array import array
from dataclasses import dataclass, field
from typing import Callable

import bpy
from bpy.props import BoolProperty
from mathutils import Vector

from .. import jobs
from ..curves_writer import LAYERS, apply_curves, check_target_keyable, hand_keys_in_the_way, write_listening
from ..dialogue import faded, listening_envelope, scene_gaze
from ..formats import reading_sentence, validate_curves
from ..hand_keys import check_or_push_down
from ..head_rig import find_head_rig
from ..keyframes import resample_count
from ..line_identity import sync_lines
from ..preferences import get_preferences
from ..properties import dialogue_for, effective_seed, face_for, keep_recognized_dialogue, line_for
from ..scene_strips import key_place
from ..sequencer import SoundClip, StripError, active_sound_clip, scene_fps
from ..takes import replace_takes
from ..targets import Target, TargetError, driven_note, find_target
from .job_operator import JobOperator, connection_from_preferences


def edited_instructions(settings, strip_name: str) -> tuple[str | None, list[dict] | None]:
    """The animator's text for this strip: its per-segment fields if Analyze wrote them, else its
    whole-line Text; none (the agent writes one) for a strip that has neither."""
    line = line_for(settings, strip_name, create=False)
    if line is None:
        return None, None
    whole = line.instruction_text.as_string().strip() if line.instruction_text else ""
    if settings.use_segments and line.segments and line.analyzed:
        segments = [{"start": s.start, "end": s.end, "instruction": s.instruction.strip() or whole}
                    for s in line.segments]
        if all(s["instruction"] for s in segments):
            return whole or None, segments
    return whole or None, None


def mesh_retarget_body(target: Target) -> dict:
    """A FLAME mesh's own expression basis (Exp keys − basis), so the retarget fits this very mesh.

    Coordinates go to FLAME's frame (y up, face towards +z) through the object's world rotation:
    a head standing upright and facing the front view (−Y) in Blender is what FLAME calls upright.
    """
    obj = target.obj
    linear = obj.matrix_world.to_3x3()
    keys = obj.data.shape_keys.key_blocks
    count = len(obj.data.vertices)

    def flame_frame(flat: array) -> list:
        out = []
        for i in range(count):
            x, y, z = linear @ Vector(flat[3 * i:3 * i + 3])
            out += (x, z, -y)
        return out

    basis = array("f", bytes(4 * 3 * count))
    keys[0].data.foreach_get("co", basis)
    exp_names = sorted((name for channel, name in target.key_for_channel.items() if channel.startswith("exp")),
                       key=lambda name: int(name[3:]))
    deltas = array("f")
    shape = array("f", bytes(4 * 3 * count))
    for name in exp_names:
        keys[name].data.foreach_get("co", shape)
        deltas.extend(flame_frame(array("f", (a - b for a, b in zip(shape, basis)))))
    encode = lambda values: base64.b64encode(array("f", values).tobytes()).decode()  # noqa: E731
    return {"num_vertices": count, "num_expressions": len(exp_names),
            "vertices_b64": encode(flame_frame(basis)), "expression_basis_b64": encode(deltas)}


@dataclass
class LineRequest:
    """One line (sound strip → face) gathered on the main thread: the worker only calls `submit` (and
    `listen` for each face listening to it); `apply` and `apply_listening` key the answers back on the
    main thread."""

    strip: str
    face: str
    submit: Callable
    apply: Callable
    listeners: list = field(default_factory=list)  # dialogue.ListenerSpec: the faces that listen to this line
    listen: Callable | None = None  # (client, the line's curves, a ListenerSpec) → the listener's curves
    apply_listening: Callable | None = None  # (context, ListenerSpec, its curves) → message


def line_request(context, clip: SoundClip, face, *, layers: tuple[str, ...] | None, gaze: dict | None = None,
                 listeners: list | None = None, noticed: list[str] = ()) -> LineRequest:
    """What to send for `clip` animating `face`, and how to key the answer (`layers`: the NLA layers to
    write, None: one Action; `gaze`: where eye contact is; `listeners`: the faces that listen to the line;
    `noticed`: what sync_lines found, for the report). Refuses (TargetError, NotKeyable) before anything
    is sent."""
    scene = context.scene
    settings = scene.avi_talking
    target = find_target(face)
    check_target_keyable(target)  # refused now, before the model process spends a minute on it
    if not settings.push_down_hand_keys:
        check_or_push_down(hand_keys_in_the_way(target, find_head_rig(target.obj), layered=layers is not None),
                           push_down=False)
    fps = scene_fps(scene)
    instruction, segments = edited_instructions(settings, clip.name)
    dialogue = dialogue_for(settings, clip.name)
    prefs = get_preferences(context)
    seed = effective_seed(settings, prefs)
    samples, guidance, synthesis, language = settings.samples, settings.guidance, settings.synthesis, settings.language
    head_motion = settings.head_motion
    retarget = None
    if target.kind == "flame":  # fit to the user's FLAME file, else to the mesh's own Exp keys
        retarget = ({"flame_model_path": bpy.path.abspath(prefs.flame_model_path)}
                    if prefs and prefs.flame_model_path else mesh_retarget_body(target))
    target_name = target.obj.name
    line_id = line_for(settings, clip.name).line_id  # the line's layers carry it: a rename keeps them
    place = key_place(scene, target.obj, clip.start_frame, clip.end_frame)  # another scene's face: its frames

    def submit(client):
        retarget_id = client.create_retarget(retarget)["retarget_id"] if retarget else None
        return client.submit_animate(clip.path, transcript=dialogue, instruction=instruction,
                                     segments=segments, seed=seed, fps=fps, retarget_id=retarget_id,
                                     samples=samples, guidance=guidance, synthesis=synthesis,
                                     span=clip.request_span, layers=layers is not None, language=language,
                                     head_motion=head_motion, gaze=gaze)

    def listen(client, curves: dict, spec) -> dict:
        # The speaker's instructions as they were read (free text understood by meaning), for the echo.
        spoken = [{"start": seg["start"], "end": seg["end"],
                   "instruction": (seg.get("reading") or {}).get("read_as") or seg["instruction"]}
                  for seg in curves["segments"]]
        return client.listen({"duration": curves["num_frames"] / curves["fps"], "phones": curves["phones"],
                              "segments": spoken, "fps": curves["fps"], "seed": seed,
                              "head_motion": head_motion,
                              "gaze": {"points": spec.gaze_points} if spec.gaze_points else "camera"})

    def apply_listening(context, spec, curves: dict) -> str:
        validate_curves(curves)
        obj = bpy.data.objects.get(spec.face)
        if obj is None:
            raise TargetError(f"the face '{spec.face}' was removed while its listening was made")
        envelope = listening_envelope(clip.start_frame, curves["num_frames"], curves["fps"], spec.quiet)
        listener = key_place(context.scene, obj, clip.start_frame, clip.end_frame)
        write_listening(listener.of(), obj, faded(curves, envelope), start_frame=clip.start_frame + listener.offset,
                        line=line_id, label=clip.name)
        return f"'{spec.face}' listens"

    def apply(context, result: dict) -> str:
        takes = result.get("takes") or [result]  # the result itself is take 1
        for curves in takes:
            validate_curves(curves)
        obj = bpy.data.objects.get(target_name)
        if obj is None:
            raise TargetError(f"the face '{target_name}' was removed while its animation was generated")
        moved_from: list[str] = []
        actions = apply_curves(place.of(), obj, takes[0], start_frame=clip.start_frame + place.offset,
                               action_name=f"AVI_{clip.name}", line=line_id, layers=layers, said=moved_from)
        replace_takes(context.scene.avi_talking, clip.name, obj, takes, seed)
        keyed = resample_count(takes[0]["num_frames"], takes[0]["fps"], scene_fps(context.scene))
        where = (f"NLA layers {', '.join(layers)}" if layers else f"Action '{actions[0].name}'")
        message = f"keyed {keyed} frames of '{clip.name}' on '{target_name}' ({where})"
        if place.scene != context.scene.name:
            first = clip.start_frame + place.offset
            message += f" in the scene '{place.scene}' from its frame {first:g}, where the scene strip plays it"
        message += f"; {len(takes)} takes kept, Use Take switches" if len(takes) > 1 else ""
        message += language_note(takes[0]) + driven_note(find_target(obj)) + reading_note(takes[0])
        message += "".join(f"; taken off '{name}', which it animated before" for name in moved_from)
        message += "".join(f"; {note}" for note in noticed)
        line = line_for(context.scene.avi_talking, clip.name)
        line.reading = "\n".join(reading_sentence(segment["reading"]) for segment in takes[0]["segments"]
                                 if segment.get("reading"))
        return message + keep_recognized_dialogue(line, takes[0])

    return LineRequest(clip.name, target_name, submit, apply, list(listeners or []), listen, apply_listening)


def reading_note(curves: dict) -> str:
    """How each instruction was read, where it was not the grammar's own words: by meaning, or with words
    that changed nothing (the panel and the report say so; nothing passes in silence)."""
    notes = []
    for number, segment in enumerate(curves.get("segments") or [], start=1):
        reading = segment.get("reading") or {}
        if reading.get("by") in ("meaning", "nothing") or reading.get("unused"):
            where = f"segment {number}: " if len(curves["segments"]) > 1 else "instruction "
            notes.append(where + reading_sentence(reading))
    return "".join(f"; {note}" for note in notes)


def language_note(curves: dict) -> str:
    """What the status says about the language: which one was heard and whose phonemes timed the lips."""
    language = curves.get("language", "en")
    return f"; language {language} (phonemes from {curves.get('phoneme_source', 'pocketsphinx')})"


PARTS = {"EXPRESSION": ("expression",), "HEAD_AND_EYES": ("eyes", "head")}  # what a partial Generate writes
PART_NAMES = {"EXPRESSION": "Expression Only", "HEAD_AND_EYES": "Head & Eyes Only"}


def layers_to_write(settings, *, part: str = "ALL") -> tuple[str, ...] | None:
    """The line's layers a Generate writes: all of them, or only one part of them (the others stay as they
    are, hand edits included); None: one Action (Layers off)."""
    if not settings.use_layers:
        return None
    return PARTS.get(part, LAYERS)


def animate_job(context, *, part: str = "ALL") -> jobs.Job:
    """Generate for the active sound strip, on its line's face (or the scene's Face)."""
    scene = context.scene
    noticed = sync_lines(scene)  # renamed, copied or older-version strips are tied to their lines first
    try:
        clip = active_sound_clip(scene)
    except StripError:
        find_target(scene.avi_talking.target)  # no face either: that is the first thing to set
        raise
    if part in PARTS and not scene.avi_talking.use_layers:
        raise TargetError(f"{PART_NAMES[part]} needs Layers on: the rest of the line can only be kept when each "
                          "part is a layer of its own")
    face = face_for(scene.avi_talking, clip.name)
    gaze = scene_gaze(scene, face, clip.start_frame, clip.end_frame) if face is not None else None
    request = line_request(context, clip, face, layers=layers_to_write(scene.avi_talking, part=part), gaze=gaze,
                           noticed=noticed)
    return jobs.Job("generate", request.submit, request.apply, connection_from_preferences(context))


class AVI_TALKING_OT_generate(JobOperator, bpy.types.Operator):
    """Animate the face from the active sound strip and the instruction (NLA layers or a new Action, undoable; takes are kept)"""

    bl_idname = "avi_talking.generate"
    bl_label = "Generate"
    bl_options = {"REGISTER", "UNDO"}

    expression_only: BoolProperty(name="Expression Only", default=False, options={"SKIP_SAVE"},
                                  description="Write only the expression layer (after an instruction edit): "
                                              "the line's lips, eyes, blinks and head layers stay as they are")
    head_and_eyes_only: BoolProperty(name="Head & Eyes Only", default=False, options={"SKIP_SAVE"},
                                     description="Write only the head and eyes layers (after a Head motion, Gaze "
                                                 "or instruction edit): the lips, expression and blinks stay")

    def make_job(self, context):
        if self.expression_only and self.head_and_eyes_only:
            raise TargetError("choose one of Expression Only and Head & Eyes Only")
        part = "EXPRESSION" if self.expression_only else "HEAD_AND_EYES" if self.head_and_eyes_only else "ALL"
        return animate_job(context, part=part)
