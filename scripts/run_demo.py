"""The main job on the embedded defaults, in headless Blender:
demo speech → instruction → animation on the demo head → .blend, .glb, .fbx, and a preview image of
the same line under two opposite instructions, side by side; then a two-character dialogue scene
(demo_dialogue.py): its .blend, a contact sheet and a small movie with the sound.

    python scripts/run_demo.py --out out        (after scripts/setup.sh; `make demo` does both)

It drives the extension exactly as an animator would: install the built extension, add the demo
head, put the speech on a sound strip, Analyze, Generate, Export.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "scripts"), str(REPO)]

from build_extension import build  # noqa: E402
from demo_dialogue import make_dialogue  # noqa: E402

DEMO_AUDIO = REPO / "assets" / "demo_speech.wav"
DEMO_TRANSCRIPT = REPO / "assets" / "demo_speech.txt"
# The preview: the demo line under two opposite instructions, one head each.
CONTRAST = (("furious", "A very angry person speaks with brow greatly lowered, lips pressed, nose wrinkled."),
            ("delighted", "A very happy person speaks with a wide smile, cheeks raised, brow lifted."))
CONTRAST_SPACING = 0.2  # metres between the two heads' centres


def install_extension(bpy, zip_path: Path) -> None:
    result = bpy.ops.extensions.package_install_files(filepath=str(zip_path), repo="user_default",
                                                      enable_on_install=True, overwrite=True)
    if result != {"FINISHED"} or "avi_talking" not in dir(bpy.ops):
        sys.exit(f"installing {zip_path.name} into Blender failed")


def add_sound_strip(scene, path: Path, frame_start: int, channel: int = 1):
    editor = scene.sequence_editor or scene.sequence_editor_create()
    strips = editor.strips if hasattr(editor, "strips") else editor.sequences  # renamed in 5.0
    strip = strips.new_sound(name=path.stem, filepath=str(path), channel=channel, frame_start=frame_start)
    editor.active_strip = strip
    return strip


def add_contrast_heads(bpy, scene, line) -> list[tuple[str, object]]:
    """Two more demo heads side by side: the same recording generated under two opposite instructions.

    Done as an animator would: a line animates one face, so each take is a strip of its own (the same
    recording on another channel), then Add Demo Head, make it the line's face, write the instruction,
    Generate.
    """
    settings = scene.avi_talking
    settings.use_segments = False  # one instruction for the whole line
    heads = []
    for channel, offset, (label, instruction) in zip((2, 3), (-CONTRAST_SPACING / 2, CONTRAST_SPACING / 2), CONTRAST):
        strip = add_sound_strip(scene, DEMO_AUDIO, frame_start=1, channel=channel)
        strip.name = f"demo_speech_{label}"
        settings.dialogue = line.dialogue  # typed into the new strip's own line
        take_line = next(candidate for candidate in settings.lines if candidate.strip == strip.name)
        bpy.ops.avi_talking.add_demo_head()
        head = settings.target
        head.name = f"AVI_DemoHead_{label}"
        head.location.x += offset
        take_line.face = head
        take_line.instruction_text = bpy.data.texts.new(f"AVI instruction {strip.name}")
        take_line.instruction_text.write(instruction)
        if bpy.ops.avi_talking.generate() != {"FINISHED"}:
            sys.exit(f"generating the {label} take failed (see the message above)")
        print(f"{label}: {instruction}")
        heads.append((label, head))
    return heads


def add_preview_rig(bpy, scene, heads) -> None:
    """A camera on both heads, a soft key light, and each head's label under it (heads face -Y)."""
    import math

    camera = bpy.data.objects.new("AVI_DemoCamera", bpy.data.cameras.new("AVI_DemoCamera"))
    camera.location = (0.0, -1.05, 0.0)
    camera.rotation_euler = (math.pi / 2, 0.0, 0.0)
    camera.data.lens = 85
    light = bpy.data.objects.new("AVI_DemoLight", bpy.data.lights.new("AVI_DemoLight", "AREA"))
    light.data.energy, light.data.size = 40, 0.8
    light.location = (0.45, -0.9, 0.45)
    light.rotation_euler = (math.radians(55), 0.0, math.radians(25))
    for obj in (camera, light):
        scene.collection.objects.link(obj)
    for label, head in heads:
        text = bpy.data.curves.new(f"AVI_Label_{label}", "FONT")
        text.body, text.size, text.align_x = label, 0.022, "CENTER"
        caption = bpy.data.objects.new(f"AVI_Label_{label}", text)
        caption.location = (head.location.x, head.location.y - 0.07, head.location.z - 0.13)  # on the neck
        caption.rotation_euler = (math.pi / 2, 0.0, 0.0)
        scene.collection.objects.link(caption)
    scene.camera = camera
    scene.world = scene.world or bpy.data.worlds.new("AVI_DemoWorld")
    scene.world.color = (0.25, 0.27, 0.3)


def render_preview(bpy, scene, heads, out: Path) -> Path:
    """Three frames of both heads, side by side: where the line's mouth is most open, half open, closed."""
    import numpy as np

    key = heads[0][1].data.shape_keys.key_blocks
    frames, apertures = [], []
    for frame in range(scene.frame_start, scene.frame_end + 1, 2):
        scene.frame_set(frame)
        frames.append(frame)
        apertures.append(key["jawOpen"].value - key["mouthClose"].value)
    order = np.argsort(apertures)
    speaking = [f for f, a in zip(frames, apertures) if a > 0.02]
    picks = sorted({frames[order[-1]], frames[order[-len(order) // 4]], min(speaking, default=frames[0]) + 6})
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = 12
    scene.render.resolution_x, scene.render.resolution_y = 560, 400
    tiles = []
    for frame in picks:
        scene.frame_set(frame)
        scene.render.filepath = str(out / f"frame_{frame:04d}.png")
        bpy.ops.render.render(write_still=True)
        image = bpy.data.images.load(scene.render.filepath)
        tiles.append(np.array(image.pixels[:], dtype=np.float32).reshape(image.size[1], image.size[0], 4))
        Path(scene.render.filepath).unlink()
    strip = np.ascontiguousarray(np.concatenate(tiles, axis=1))
    preview = bpy.data.images.new("AVI preview", strip.shape[1], strip.shape[0])
    preview.pixels.foreach_set(strip.ravel())
    preview.filepath_raw = str(out / "demo_preview.png")
    preview.file_format = "PNG"
    preview.save()
    print(f"preview frames: {picks}")
    return out / "demo_preview.png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "out")
    parser.add_argument("--no-render", action="store_true", help="skip the renders (preview, dialogue sheet and movie)")
    parser.add_argument("--no-movie", action="store_true", help="skip only the dialogue's movie (the slowest render)")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    zip_path = build(REPO / "dist")
    # Install into a private Blender user folder: the demo must not touch your own Blender set-up.
    os.environ["BLENDER_USER_RESOURCES"] = str(out / ".blender-user")
    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    install_extension(bpy, zip_path)
    prefs = bpy.context.preferences.addons[next(a for a in bpy.context.preferences.addons.keys()
                                                if a.endswith("avi_talking_blender"))].preferences
    prefs.python_path = sys.executable  # this environment has the model server's packages

    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 25, 1.0
    bpy.ops.avi_talking.add_demo_head()
    strip = add_sound_strip(scene, DEMO_AUDIO, frame_start=1)
    scene.avi_talking.dialogue = DEMO_TRANSCRIPT.read_text().strip()
    try:
        for operator in (bpy.ops.avi_talking.analyze, bpy.ops.avi_talking.generate):
            if operator() != {"FINISHED"}:
                sys.exit(f"{operator.idname_py()} failed (see the message above)")
        line = next(line for line in scene.avi_talking.lines if line.strip == strip.name)
        print(f"instruction: {line.instruction_text.as_string()}")
        for segment in line.segments:
            print(f"  {segment.start:5.2f}–{segment.end:5.2f} s: {segment.instruction}")
        head = scene.avi_talking.target
        scene.frame_start, scene.frame_end = 1, int(strip.frame_final_end)
        bpy.ops.wm.save_as_mainfile(filepath=str(out / "demo.blend"))
        for fmt in ("GLB", "FBX"):
            bpy.ops.avi_talking.export_animation(filepath=str(out / f"demo.{fmt.lower()}"), format=fmt)
        if not args.no_render:  # after saving: the preview's heads are not part of the demo scene
            head.hide_render = True
            heads = add_contrast_heads(bpy, scene, line)
            add_preview_rig(bpy, scene, heads)
            render_preview(bpy, scene, heads, out)
        # A new file: the demo scene above is saved.
        make_dialogue(bpy, out, render=not args.no_render, movie=not (args.no_render or args.no_movie))
    finally:
        bpy.ops.avi_talking.stop_server()
    for name in ("demo.blend", "demo.glb", "demo.fbx", "demo_preview.png", "demo_dialogue.blend",
                 "demo_dialogue.png", "demo_dialogue.mp4"):
        if (out / name).exists():
            print(f"wrote {out / name}")


if __name__ == "__main__":
    main()
