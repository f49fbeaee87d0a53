"""The demo's dialogue scene: two demo heads facing each other, each speaking a line of real speech
(Asterisk's prompts, one professional voice) under contrasting instructions, the other listening.

run_demo.py calls `make_dialogue` after the single-line demo: Generate All, then a contact sheet of frames
over the scene with a row of close-ups of each face in its line (out/demo_dialogue.png), and a small render
with the sound (out/demo_dialogue.mp4, by ffmpeg).
"""

from __future__ import annotations

import math
import shutil
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# (name, Asterisk prompt, where the head stands, which way it turns (radians about Z: the demo head faces -Y;
# 65° turns it toward the other and 25° toward the camera in front of them), instruction)
CHARACTERS = (
    ("Ada", "conf-getpin", (-0.21, 0.0, 0.0), math.radians(65),
     "A very angry person speaks with brow strongly lowered, eyes fairly narrowed, and lips fairly pressed."),
    ("Ben", "agent-pass", (0.21, 0.0, 0.0), -math.radians(65),
     "A very happy person speaks with lip corners strongly pulled up and cheeks quite raised."),
)
GAP_FRAMES = 8  # between Ada's line and Ben's
SHEET_FRAMES, SHEET_COLUMNS = 8, 4
SHEET_SIZE, MOVIE_SIZE = (480, 300), (320, 200)


def recordings(cache: Path) -> dict[str, tuple[Path, str]]:
    """Each character's prompt as a 16 kHz WAV and its transcript (Debian's asterisk-core-sounds-en-g722)."""
    from model_server.eval.real_recordings import asterisk_recordings

    keys = {key for _, key, *_ in CHARACTERS}
    found = {r.name: (r.path, r.transcript) for r in asterisk_recordings(cache, keys=keys)}
    missing = keys - found.keys()
    if missing:
        raise SystemExit(f"Asterisk prompts {sorted(missing)} missing: apt-get install asterisk-core-sounds-en-g722 "
                         "ffmpeg (scripts/setup.sh does this)")
    return found


def build_scene(bpy, found: dict) -> list:
    """The two heads, their lines on the sequencer (each on its own face), a camera at three-quarters."""
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 25, 1.0
    editor = scene.sequence_editor_create()
    strips = editor.strips if hasattr(editor, "strips") else editor.sequences
    heads, frame = [], 1
    for name, key, location, turn, instruction in CHARACTERS:
        bpy.ops.avi_talking.add_demo_head()
        head = scene.avi_talking.target
        head.name = name
        head.rotation_mode = "XYZ"
        head.location, head.rotation_euler = location, (0.0, 0.0, turn)
        path, transcript = found[key]
        strip = strips.new_sound(name=name.lower(), filepath=str(path), channel=len(heads) + 1, frame_start=frame)
        editor.active_strip = strip
        settings = scene.avi_talking
        line = settings.lines.add()
        line.strip, line.face, line.dialogue = strip.name, head, transcript
        text = bpy.data.texts.new(f"AVI instruction {strip.name}")
        text.write(instruction)
        line.instruction_text = text
        frame = int(strip.frame_final_end) + GAP_FRAMES
        heads.append(head)
    scene.frame_start, scene.frame_end = 1, frame - GAP_FRAMES + 12
    _camera_and_light(bpy, scene)
    return heads


def _camera_and_light(bpy, scene) -> None:
    from mathutils import Vector

    camera = bpy.data.objects.new("AVI_DialogueCamera", bpy.data.cameras.new("AVI_DialogueCamera"))
    camera.location = (0.0, -1.0, 0.03)
    camera.rotation_euler = (Vector((0.0, 0.0, 0.0)) - camera.location).to_track_quat("-Z", "Y").to_euler()
    camera.data.lens = 50
    light = bpy.data.objects.new("AVI_DialogueLight", bpy.data.lights.new("AVI_DialogueLight", "AREA"))
    light.data.energy, light.data.size = 60, 1.0
    light.location, light.rotation_euler = (0.6, -1.0, 0.8), (math.radians(50), 0.0, math.radians(30))
    for obj in (camera, light):
        scene.collection.objects.link(obj)
    scene.camera = camera
    scene.world = scene.world or bpy.data.worlds.new("AVI_DialogueWorld")
    scene.world.color = (0.25, 0.27, 0.3)
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"


def _render_frame(bpy, scene, frame: int, size: tuple[int, int], samples: int, path: Path):
    import numpy as np

    scene.frame_set(frame)
    scene.cycles.samples = samples
    scene.render.resolution_x, scene.render.resolution_y = size
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    image = bpy.data.images.load(str(path))
    pixels = np.array(image.pixels[:], dtype=np.float32).reshape(image.size[1], image.size[0], 4)
    bpy.data.images.remove(image)
    return pixels


def _joined(images: list, axis: int):
    """Images side by side (axis 1) or stacked (axis 0), a white line of 6 pixels between them."""
    import numpy as np

    shape = list(images[0].shape)
    shape[axis] = 6
    line = np.ones(shape, dtype=np.float32)
    return np.concatenate([piece for image in images for piece in (image, line)][:-1], axis=axis)


def close_up_camera(bpy, scene, head):
    """A camera 0.6 m in front of `head` (its rest pose), 20° toward the scene camera, framing the face."""
    from mathutils import Matrix, Vector

    centre = sum((head.matrix_world @ Vector(c) for c in head.bound_box), Vector()) / 8 + Vector((0, 0, 0.03))
    ahead = head.matrix_world.to_3x3().normalized() @ Vector((0, -1, 0))
    toward_camera = 1 if ahead.cross(scene.camera.location - centre).z > 0 else -1
    ahead = Matrix.Rotation(math.radians(20) * toward_camera, 3, "Z") @ ahead
    camera = bpy.data.objects.new(f"AVI_CloseUp_{head.name}", bpy.data.cameras.new(f"AVI_CloseUp_{head.name}"))
    camera.location = centre + 0.6 * ahead
    camera.rotation_euler = (centre - camera.location).to_track_quat("-Z", "Y").to_euler()
    camera.data.lens = 50
    scene.collection.objects.link(camera)
    return camera


def close_ups(bpy, scene, heads: list, out: Path) -> list:
    """Each head close up at a third and two thirds into its own line: the expressions side by side."""
    tiles, wide = [], scene.camera
    for head in heads:
        strip = next(s for s in scene.avi_talking.lines if s.face == head)
        start, end = _strip_frames(scene, strip.strip)
        scene.camera = close_up_camera(bpy, scene, head)
        for share in (1 / 3, 2 / 3):
            frame = int(round(start + share * (end - start)))
            tiles.append(_render_frame(bpy, scene, frame, SHEET_SIZE, 16, out / "close_up.png"))
            (out / "close_up.png").unlink()
    scene.camera = wide
    return tiles


def _strip_frames(scene, name: str) -> tuple[float, float]:
    editor = scene.sequence_editor
    strip = (editor.strips_all if hasattr(editor, "strips_all") else editor.sequences_all)[name]
    return strip.frame_final_start, strip.frame_final_end


def contact_sheet(bpy, scene, out: Path, heads: list) -> Path:
    """SHEET_FRAMES frames spread over the scene, in rows of SHEET_COLUMNS, left to right, top to bottom;
    then a row of close-ups: each head a third and two thirds into its line."""
    import numpy as np

    frames = [int(round(f)) for f in np.linspace(scene.frame_start + 4, scene.frame_end - 4, SHEET_FRAMES)]
    tiles = [_render_frame(bpy, scene, f, SHEET_SIZE, 16, out / f"sheet_{f:04d}.png") for f in frames]
    for f in frames:
        (out / f"sheet_{f:04d}.png").unlink()
    tiles += close_ups(bpy, scene, heads, out)
    rows = [_joined(tiles[i:i + SHEET_COLUMNS], axis=1) for i in range(0, len(tiles), SHEET_COLUMNS)]
    sheet = np.ascontiguousarray(_joined(rows[::-1], axis=0))  # Blender's images start at the bottom
    image = bpy.data.images.new("AVI dialogue", sheet.shape[1], sheet.shape[0])
    image.pixels.foreach_set(sheet.ravel())
    image.filepath_raw, image.file_format = str(out / "demo_dialogue.png"), "PNG"
    image.save()
    print(f"contact sheet frames: {frames}")
    return out / "demo_dialogue.png"


def render_movie(bpy, scene, out: Path) -> Path | None:
    """Every frame at MOVIE_SIZE, a few samples each, and the scene's sound, joined by ffmpeg."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        print("no ffmpeg: demo_dialogue.mp4 skipped")
        return None
    frames_dir = out / "dialogue_frames"
    frames_dir.mkdir(exist_ok=True)
    started = time.monotonic()
    scene.cycles.samples = 3
    scene.render.resolution_x, scene.render.resolution_y = MOVIE_SIZE
    scene.render.image_settings.file_format = "PNG"
    scene.render.filepath = str(frames_dir / "f_")
    bpy.ops.render.render(animation=True)
    sound = out / "dialogue_sound.wav"
    bpy.ops.sound.mixdown(filepath=str(sound), container="WAV", codec="PCM", format="S16", mixrate=48000)
    target = out / "demo_dialogue.mp4"
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-framerate", "25", "-start_number", str(scene.frame_start),
                    "-i", str(frames_dir / "f_%04d.png"), "-i", str(sound), "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-shortest", str(target)], check=True)
    shutil.rmtree(frames_dir)
    sound.unlink()
    print(f"demo_dialogue.mp4: {scene.frame_end - scene.frame_start + 1} frames rendered and joined in "
          f"{time.monotonic() - started:.0f} s")
    return target


def make_dialogue(bpy, out: Path, render: bool = True, movie: bool = True) -> list[Path]:
    """The dialogue scene in a new file: Generate All, saved, then its contact sheet and movie."""
    bpy.ops.wm.read_homefile(use_empty=True)
    found = recordings(out / ".asterisk")
    heads = build_scene(bpy, found)
    if bpy.ops.avi_talking.generate_all() != {"FINISHED"}:
        raise SystemExit("Generate All failed on the dialogue scene (see the message above)")
    print(bpy.context.scene.avi_talking.last_status)
    written = [out / "demo_dialogue.blend"]
    bpy.ops.wm.save_as_mainfile(filepath=str(written[0]))
    if render:
        scene = bpy.context.scene
        written.append(contact_sheet(bpy, scene, out, heads))
    if render and movie:
        written += [p for p in [render_movie(bpy, bpy.context.scene, out)] if p is not None]
    return written
