"""Operators, one module per task."""

from .analyze import AVI_TALKING_OT_analyze, AVI_TALKING_OT_edit_instruction
from .cancel import AVI_TALKING_OT_cancel
from .environment import (AVI_TALKING_OT_open_setup_log, AVI_TALKING_OT_remove_environment,
                          AVI_TALKING_OT_setup_environment)
from .export import AVI_TALKING_OT_export_animation
from .generate import AVI_TALKING_OT_generate
from .generate_all import AVI_TALKING_OT_generate_all
from .heads import AVI_TALKING_OT_add_demo_head, AVI_TALKING_OT_add_flame_head
from .line_face import AVI_TALKING_OT_use_selected_as_line_face
from .live_link import AVI_TALKING_OT_export_live_link, AVI_TALKING_OT_import_live_link
from .key_mapping import (AVI_TALKING_OT_add_key_mapping_row, AVI_TALKING_OT_clear_key_mapping,
                          AVI_TALKING_OT_fill_key_mapping, AVI_TALKING_OT_remove_key_mapping_row)
from .server import AVI_TALKING_OT_start_server, AVI_TALKING_OT_stop_server
from .takes import AVI_TALKING_OT_use_take

classes = (
    AVI_TALKING_OT_setup_environment, AVI_TALKING_OT_remove_environment, AVI_TALKING_OT_open_setup_log,
    AVI_TALKING_OT_start_server, AVI_TALKING_OT_stop_server, AVI_TALKING_OT_cancel,
    AVI_TALKING_OT_analyze, AVI_TALKING_OT_edit_instruction, AVI_TALKING_OT_generate, AVI_TALKING_OT_generate_all, AVI_TALKING_OT_use_selected_as_line_face,
    AVI_TALKING_OT_use_take,
    AVI_TALKING_OT_add_demo_head, AVI_TALKING_OT_add_flame_head,
    AVI_TALKING_OT_fill_key_mapping, AVI_TALKING_OT_add_key_mapping_row, AVI_TALKING_OT_remove_key_mapping_row,
    AVI_TALKING_OT_clear_key_mapping,
    AVI_TALKING_OT_export_animation, AVI_TALKING_OT_export_live_link, AVI_TALKING_OT_import_live_link,
)
