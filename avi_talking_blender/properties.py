"""Per-shot settings, saved in the .blend with the Scene; the running job's progress, on the WindowManager.

Scene: target, one *line* per sound strip (its dialogue text, instruction Text and per-segment
instructions, so one strip's instruction is never used for another), seed, number of takes, guidance,
synthesis model, the kept takes of the last Generate per strip (curves in Text datablocks), last outcome.
WindowManager: progress of the job in flight (transient by design: Blender does not save it).
"""


import bpy
from bpy.props import (
    BoolProperty, CollectionProperty, EnumProperty, FloatProperty, IntProperty, PointerProperty, StringProperty,
)

from .formats import DEFAULT_GUIDANCE, DEFAULT_SYNTHESIS, SYNTHESIS_MODELS
from .line_identity import claim_line, find_line

MAX_TAKES = 8  # per Generate; the server allows more, but each take is kept in the .blend
_SYNTHESIS_ITEMS = {
    "learned": ("Learned", "AVI-Talking's learned model: the rules' lips, the expression sampled from the instruction "
                            "(takes vary more)"),
    "baseline": ("Baseline", "Rules: visemes with coarticulation, an expression layer read from the instruction"),
}


def _is_mesh(self, obj: bpy.types.Object) -> bool:
    return obj.type == "MESH"


def _seed_edited(self, context) -> None:
    self.seed_is_set = True


def _dialogue_edited(self, context) -> None:
    self.dialogue_recognized = False  # the animator's own words now, not the recogniser's


def keep_recognized_dialogue(line, result: dict) -> str:
    """Put the words the recogniser heard into the line's empty Dialogue field, so the animator can
    correct a word and run again (forced alignment of the corrected text). Returns what to add to the report."""
    heard = str(result.get("transcript") or "").strip()
    if result.get("transcript_source") != "recognized" or not heard:
        return ""
    if line.dialogue.strip():  # the animator's text could not be aligned or is not what is said: say so, keep it
        return (f"; the dialogue text does not fit the audio (it could not be aligned, or most of the speech "
                f"falls outside its words): animated from the words heard, \"{heard}\"")
    line.dialogue = heard
    line.dialogue_recognized = True  # after the assignment: its update callback clears the flag
    return f"; heard \"{heard}\" (now in Dialogue: correct any word and run again)"


def line_for(settings, strip_name: str, create: bool = True):
    """The line (dialogue, instruction, segments) of the sound strip called `strip_name`, found by the id the
    strip carries (line_identity.py); with `create`, made and tied to the strip if it has none."""
    return claim_line(settings, strip_name) if create else find_line(settings, strip_name)


def face_for(settings, strip_name: str):
    """The face `strip_name`'s line animates: its own, else the scene's Face."""
    line = line_for(settings, strip_name, create=False)
    return (line.face if line is not None and line.face is not None else None) or settings.target


def dialogue_for(settings, strip_name: str) -> str | None:
    """The strip's dialogue text, or None when it has none (the words are then recognised)."""
    line = line_for(settings, strip_name, create=False)
    return (line.dialogue.strip() if line is not None else "") or None


def _active_strip_name(settings) -> str | None:
    editor = settings.id_data.sequence_editor
    strip = editor.active_strip if editor is not None else None
    return strip.name if strip is not None and strip.type == "SOUND" else None


def _get_active_dialogue(self) -> str:
    name = _active_strip_name(self)
    line = line_for(self, name, create=False) if name else None
    return line.dialogue if line is not None else ""


def _set_active_dialogue(self, value: str) -> None:
    name = _active_strip_name(self)
    if name is None:
        return  # no sound strip to keep it for; the panel says to add or select one
    line_for(self, name).dialogue = value


class AVI_TALKING_Segment(bpy.types.PropertyGroup):
    start: FloatProperty(name="Start", unit="TIME_ABSOLUTE", min=0.0, description="Seconds into the clip")
    end: FloatProperty(name="End", unit="TIME_ABSOLUTE", min=0.0, description="Seconds into the clip")
    instruction: StringProperty(name="Instruction", description="How the face moves in this segment")


class AVI_TALKING_Line(bpy.types.PropertyGroup):
    """What belongs to one dialogue line, one sound strip: what is said and how the face moves."""

    strip: StringProperty(name="Sound strip", description="Name of the sound strip this line belongs to")
    line_id: StringProperty(description="The id its sound strip carries (avi_line_id): it survives renaming")
    dialogue: StringProperty(name="Dialogue", update=_dialogue_edited,
                             description="What is said (optional): exact phone timing by forced alignment; "
                                         "left empty, the words are recognised and written here")
    dialogue_recognized: BoolProperty(default=False, description="Dialogue holds the words the recogniser heard")
    instruction_text: PointerProperty(name="Instruction", type=bpy.types.Text,
                                      description="Visual instruction for the whole line (editable text)")
    segments: CollectionProperty(type=AVI_TALKING_Segment)
    analyzed: BoolProperty(default=False, description="Analyze wrote the instruction and segments for this strip")
    reading: StringProperty(description="How the last Generate read each instruction of this line (one line per "
                                        "segment): emotion, intensity, and the words that changed nothing")
    face: PointerProperty(name="Face", type=bpy.types.Object, poll=_is_mesh,
                          description="The face this line animates (a character per strip); empty: the scene's Face")
    looks_at: PointerProperty(name="Looks At", type=bpy.types.Object,
                              description="Whom the line's face looks at in Generate All; empty: the face of the "
                                          "nearest other line in time")


class AVI_TALKING_KeyMapping(bpy.types.PropertyGroup):
    """One row of a face's own mapping table: which curve drives which shape key, and how strongly."""

    channel: StringProperty(name="Curve", description="ARKit curve (jawOpen, mouthSmileLeft, …)")
    key: StringProperty(name="Shape key", description="Shape key of this mesh that the curve drives")
    weight: FloatProperty(name="Weight", default=1.0, soft_min=0.0, soft_max=2.0,
                          description="The curve is multiplied by this before it is keyed")


class AVI_TALKING_Take(bpy.types.PropertyGroup):
    """One take of a Generate: which seed made it and where its curves are kept."""

    number: IntProperty(name="Take", min=1)
    seed: IntProperty(name="Seed")
    strip: StringProperty(name="Sound strip", description="Sound strip the take was generated for")
    face: PointerProperty(name="Face", type=bpy.types.Object, description="Mesh the take was generated for")
    curves_text: PointerProperty(name="Curves", type=bpy.types.Text,
                                 description="The take's curves file (JSON), kept in the .blend")
    in_use: BoolProperty(description="This take is the one keyed last for its strip")


# Languages offered in the panel (the model process takes any code eSpeak NG has a voice for).
LANGUAGE_ITEMS = [("auto", "Auto", "Tell the language from the speech (the multilingual Whisper)"),
                  ("en", "English", "pocketsphinx: forced alignment of the dialogue text")] + [
    (code, name, f"{name}: eSpeak NG's phonemes of the dialogue, timed on the recording")
    for code, name in (("fr", "French"), ("es", "Spanish"), ("de", "German"), ("it", "Italian"),
                       ("pt", "Portuguese"), ("ru", "Russian"), ("nl", "Dutch"), ("pl", "Polish"),
                       ("sv", "Swedish"), ("tr", "Turkish"), ("uk", "Ukrainian"), ("cs", "Czech"), ("el", "Greek"),
                       ("ja", "Japanese"), ("zh", "Chinese"), ("ko", "Korean"), ("ar", "Arabic"), ("hi", "Hindi"))]


class AVI_TALKING_SceneSettings(bpy.types.PropertyGroup):
    target: PointerProperty(name="Face", type=bpy.types.Object, poll=_is_mesh,
                            description="Mesh with FLAME (Exp1…) or ARKit shape keys to animate")
    lines: CollectionProperty(type=AVI_TALKING_Line)
    # The active sound strip's dialogue, typed straight into its line (a panel cannot create the line
    # while it draws; typing here can).
    dialogue: StringProperty(name="Dialogue", get=_get_active_dialogue, set=_set_active_dialogue,
                             description="What the active sound strip says (optional): exact phone timing by "
                                         "forced alignment; left empty, the words are recognised and written here")
    language: EnumProperty(name="Language", default="auto", items=LANGUAGE_ITEMS,
                           description="Language of the dialogue: how its phones are found and timed")
    use_layers: BoolProperty(name="Layers", default=True,
                             description="Write lips, expression and blinks as NLA strips on tracks of their own "
                                         "(AVI lips, AVI expression, AVI blinks), one strip per line: mute, weight "
                                         "or move each, and regenerate the expression alone. Off: one new Action")
    push_down_hand_keys: BoolProperty(
        name="Push Down Hand Keys", default=False,
        description="Where your own keys in the active Action would play over the generated layers and hide "
                    "them, move that Action to an NLA track below the layers (they add to it). Off: Generate "
                    "refuses and names the keys")
    key_density: EnumProperty(name="Keys", default="FRAMES", items=[
        ("FRAMES", "Every Frame", "A linear key on every frame: exactly what the model made"),
        ("POSES", "Key Poses", "Keys only where the motion turns or needs one, Bézier between: every frame within "
                               "0.02 of the dense curve (0.003 rad for the jaw bone), easy to adjust by hand"),
    ], description="How densely the generated curves are keyed")
    use_segments: BoolProperty(name="Per-segment instructions", default=True,
                               description="Use each segment's own instruction instead of the whole-clip text")
    seed: IntProperty(name="Seed", default=0, min=0, update=_seed_edited,
                      description="Seed of take 2 onwards (their styles) and of every take's blinks")
    seed_is_set: BoolProperty(default=False, description="The seed was chosen for this scene; "
                                                         "otherwise the preferences' default seed applies")
    samples: IntProperty(name="Takes", default=1, min=1, max=MAX_TAKES,
                         description="Takes per Generate: take 1 is the instruction's typical style, takes 2.. "
                                     "vary it (seeds seed+1, …); all are kept, take 1 is applied, Use Take switches")
    guidance: FloatProperty(name="Guidance", default=DEFAULT_GUIDANCE, min=0.0, soft_max=6.0,
                            description="How strongly the learned model's style follows the instruction "
                                        "(higher: stronger, less varied); the baseline ignores it")
    head_motion: FloatProperty(name="Head Motion", default=1.0, min=0.0, max=2.0,
                               description="How much the head moves with the voice: 0 exactly still, 1 as the "
                                           "voice and instruction say, up to 2. Blinks and gaze do not depend on it")
    gaze_target: EnumProperty(
        name="Gaze", default="CAMERA",
        items=[("CAMERA", "Camera", "Eye contact with the scene's camera, wherever it is over the line"),
               ("OBJECT", "Object", "Eye contact with an object (another character, a prop), wherever it is"),
               ("FORWARD", "Forward", "Eye contact straight ahead of the face")],
        description="Where the face makes eye contact; in Generate All a line looks at the face it talks to "
                    "(its Looks At, or the nearest other line's), and at this where there is none")
    gaze_object: PointerProperty(name="Gaze Object", type=bpy.types.Object,
                                 description="What the face looks at with Gaze set to Object")
    synthesis: EnumProperty(name="Model", default=DEFAULT_SYNTHESIS,
                            items=[(name, *_SYNTHESIS_ITEMS.get(name, (name.title(), name)))
                                   for name in SYNTHESIS_MODELS],
                            description="Synthesis model that turns speech and instruction into motion")
    takes: CollectionProperty(type=AVI_TALKING_Take)  # of the last Generate with several takes, per strip
    last_status: StringProperty(name="Last result", description="Outcome of the last Analyze or Generate")


class AVI_TALKING_JobStatus(bpy.types.PropertyGroup):
    kind: StringProperty()
    state: StringProperty(default="idle")  # idle | running | succeeded | failed | cancelled
    stage: StringProperty()
    progress: FloatProperty(min=0.0, max=1.0, subtype="FACTOR")
    error: StringProperty()


classes = (AVI_TALKING_Segment, AVI_TALKING_Line, AVI_TALKING_KeyMapping, AVI_TALKING_Take, AVI_TALKING_SceneSettings,
           AVI_TALKING_JobStatus)


def effective_seed(settings: AVI_TALKING_SceneSettings, prefs) -> int:
    """The scene's own seed once the animator has set one, else the preferences' default."""
    if settings.seed_is_set or prefs is None:
        return settings.seed
    return prefs.default_seed


def register_properties() -> None:
    bpy.types.Scene.avi_talking = PointerProperty(type=AVI_TALKING_SceneSettings)
    # A face's own mapping table, saved with the object; when it has rows, it replaces name matching.
    bpy.types.Object.avi_key_mapping = CollectionProperty(type=AVI_TALKING_KeyMapping)
    # The bone a face's head turns with, where the guess from the rig's bone names is not the right one.
    bpy.types.Object.avi_listens = BoolProperty(
        name="Listens", default=True,
        description="In Generate All, this face listens while the others speak (blinks, gaze on the speaker, "
                    "nods, a closed mouth): the AVI listening track")
    bpy.types.Object.avi_head_bone = StringProperty(
        name="Head Bone", description="The bone of the face's armature that turns the head; empty: found "
                                      "by its name (head, Head, mixamorig:Head, CC_Base_Head, J_Bip_C_Head, …)")
    bpy.types.WindowManager.avi_talking_job = PointerProperty(type=AVI_TALKING_JobStatus)


def unregister_properties() -> None:
    del bpy.types.Object.avi_key_mapping
    del bpy.types.Object.avi_head_bone
    del bpy.types.Object.avi_listens
    del bpy.types.WindowManager.avi_talking_job
    del bpy.types.Scene.avi_talking
