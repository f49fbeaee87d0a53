"""Which line belongs to which sound strip, by an id kept on the strip itself.

A line (dialogue, instruction, segments, face) used to be found by its strip's name, so a renamed strip
lost its line and its generated layers. Now each sound strip carries `avi_line_id` (a custom property:
it survives renaming and save/reopen), the line keeps the same id, and the generated Actions carry it
too (nla_layers.LINE_PROPERTY), so generating again after a rename replaces that line's layers.

A copied strip (Shift+D, "line.001") copies the property as well: `sync_lines` gives the copy an id and a
line of its own (the same words and instruction), so the two never share layers. Lines of files saved
before ids existed are taken over by name, and so are the Actions they generated; the single dialogue and
instruction that older files kept on the scene go to the strip they were written for.
"""

from __future__ import annotations

import uuid

import bpy

from .nla_layers import LINE_PROPERTY
from .sequencer import all_strips

LINE_ID_PROPERTY = "avi_line_id"
# What files from before per-strip lines kept on the scene settings (raw ID properties now).
LEGACY_SCENE_KEYS = ("instruction_text", "segments", "analyzed_strip", "dialogue_recognized")


def new_line_id() -> str:
    return uuid.uuid4().hex[:16]


def strip_named(scene, name: str):
    return next((s for s in all_strips(scene) if s.name == name), None)


def line_with_id(settings, line_id: str):
    return next((line for line in settings.lines if line.line_id == line_id), None) if line_id else None


def find_line(settings, strip_name: str):
    """The line of the sound strip called `strip_name`, without writing anything (panels may call it while
    they draw): by the strip's id, else (a file from before ids) by name. A copy of a strip that has not
    been given its own id yet has no line."""
    strip = strip_named(settings.id_data, strip_name)
    line_id = strip.get(LINE_ID_PROPERTY) if strip is not None else None
    line = line_with_id(settings, line_id)
    if line is not None:
        owner = strip_named(settings.id_data, line.strip)
        is_copy = owner is not None and owner != strip and owner.get(LINE_ID_PROPERTY) == line_id
        return None if is_copy else line
    return next((line for line in settings.lines if line.strip == strip_name and not line.line_id), None)


def claim_line(settings, strip_name: str):
    """The strip's line, made (or taken over) and tied to the strip by id. Call from operators only."""
    sync_lines(settings.id_data)
    line = find_line(settings, strip_name)
    strip = strip_named(settings.id_data, strip_name)
    if line is None:
        line = settings.lines.add()
        line.strip = strip_name
    if not line.line_id:
        _adopt(settings, line, strip_name)
    if strip is not None and strip.get(LINE_ID_PROPERTY) != line.line_id:
        strip[LINE_ID_PROPERTY] = line.line_id
    return line


def sync_lines(scene) -> list[str]:
    """Tie every sound strip of `scene` to its line; returns what changed, for the report."""
    settings = scene.avi_talking
    said = _migrate_scene_fields(scene)
    sounds = [s for s in all_strips(scene) if s.type == "SOUND"]
    # The strip whose name its line recorded keeps the id; any other strip with the id is a copy.
    recorded = {line.line_id: line.strip for line in settings.lines if line.line_id}
    sounds.sort(key=lambda s: recorded.get(s.get(LINE_ID_PROPERTY)) != s.name)
    owners: dict[str, object] = {}
    for strip in sounds:
        line_id = strip.get(LINE_ID_PROPERTY)
        if not line_id:
            legacy = next((line for line in settings.lines if line.strip == strip.name and not line.line_id), None)
            if legacy is not None:
                _adopt(settings, legacy, strip.name)
                strip[LINE_ID_PROPERTY] = legacy.line_id
            continue
        line = line_with_id(settings, line_id)
        if line_id in owners:  # a copy: its own id, and its own line with the same words and instruction
            strip[LINE_ID_PROPERTY] = new_line_id()
            if line is not None:
                _copy_line(settings, line, strip.name, strip[LINE_ID_PROPERTY])
                said.append(f"'{strip.name}' is a copy of '{owners[line_id].name}': it has its own line now")
            owners[strip[LINE_ID_PROPERTY]] = strip
            continue
        owners[line_id] = strip
        if line is not None and line.strip != strip.name:
            said.append(f"'{line.strip}' was renamed '{strip.name}': its line went with it")
            _rename_takes(settings, line.strip, strip.name)
            line.strip = strip.name
    return said


def _adopt(settings, line, strip_name: str) -> None:
    """Give a line from before ids an id, and the Actions generated for it (named by strip) the same."""
    line.line_id = new_line_id()
    for action in bpy.data.actions:
        if action.get(LINE_PROPERTY) == strip_name:
            action[LINE_PROPERTY] = line.line_id


def _copy_line(settings, line, strip_name: str, line_id: str) -> None:
    copy = settings.lines.add()
    copy.strip, copy.line_id = strip_name, line_id
    copy.dialogue, copy.dialogue_recognized, copy.analyzed = line.dialogue, line.dialogue_recognized, line.analyzed
    copy.face, copy.looks_at = line.face, line.looks_at
    if line.instruction_text is not None:
        copy.instruction_text = line.instruction_text.copy()
    for segment in line.segments:
        new = copy.segments.add()
        new.start, new.end, new.instruction = segment.start, segment.end, segment.instruction


def _rename_takes(settings, old: str, new: str) -> None:
    for take in settings.takes:
        if take.strip == old:
            take.strip = new


def _migrate_scene_fields(scene) -> list[str]:
    """A file from before per-strip lines kept one dialogue, instruction and segment list on the scene:
    they become the line of the strip they were written for (the analysed one, else the only sound strip,
    else the active one)."""
    settings = scene.avi_talking
    if "dialogue" not in settings.keys() and "instruction_text" not in settings.keys():
        return []
    sounds = [s for s in all_strips(scene) if s.type == "SOUND"]
    editor = scene.sequence_editor
    named = settings.get("analyzed_strip") or ""
    strip = (strip_named(scene, named) if named else None) or (sounds[0] if len(sounds) == 1 else None) or \
        (editor.active_strip if editor is not None and editor.active_strip in sounds else None)
    if strip is None:
        return ["this file's dialogue and instruction from an older version belong to no sound strip: "
                "select the strip and type them into its line"]
    line = _line_for_migration(settings, strip)
    dialogue = settings.get("dialogue")
    text = settings.get("instruction_text")
    if isinstance(dialogue, str) and dialogue.strip() and not line.dialogue:
        line.dialogue = dialogue
    if isinstance(text, bpy.types.Text) and line.instruction_text is None:
        line.instruction_text = text
    for segment in settings.get("segments") or []:
        new = line.segments.add()
        new.start, new.end = segment.get("start", 0.0), segment.get("end", 0.0)
        new.instruction = segment.get("instruction", "")
    line.analyzed = bool(line.segments)
    for key in ("dialogue",) + LEGACY_SCENE_KEYS:
        if key in settings.keys():
            del settings[key]
    return [f"the dialogue and instruction this file kept from an older version now belong to '{strip.name}'"]


def _line_for_migration(settings, strip):
    line = next((line for line in settings.lines if line.strip == strip.name), None)
    if line is None:
        line = settings.lines.add()
        line.strip = strip.name
    if not line.line_id:
        line.line_id = new_line_id()
    strip[LINE_ID_PROPERTY] = line.line_id
    return line
