"""AVI-Talking for Blender: speech → editable visual instruction → lip-synced facial animation."""

import bpy

from . import jobs, operators, panels, preferences, properties, server_process

_classes = preferences.classes + properties.classes + operators.classes + panels.classes


def register():
    for cls in _classes:
        bpy.utils.register_class(cls)
    properties.register_properties()


def unregister():
    jobs.cancel_active()
    server_process.stop()
    properties.unregister_properties()
    for cls in reversed(_classes):
        bpy.utils.unregister_class(cls)
