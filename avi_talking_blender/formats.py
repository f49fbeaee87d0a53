"""The curves format, ARKit names and synthesis model names, shared with the model process (defined
once, in model_server).

Inside the installed extension, model_server/ is bundled in this package; in a repo checkout it is
the sibling package. The modules imported here are stdlib-only.
"""

try:
    from .model_server import arkit, curves, live_link  # packaged extension
    from .model_server.synthesis import registry
except ImportError:  # repo checkout: avi_talking_blender/ and model_server/ side by side
    from model_server import arkit, curves, live_link  # type: ignore[no-redef]
    from model_server.synthesis import registry  # type: ignore[no-redef]

ARKIT_NAMES = arkit.ARKIT_NAMES
FLAME_EXPRESSION_DIM = arkit.FLAME_EXPRESSION_DIM
CurvesFormatError = curves.CurvesFormatError
validate_curves = curves.validate_curves
reading_sentence = curves.reading_sentence
load_curves = curves.load_curves
SYNTHESIS_MODELS = tuple(registry.SYNTHESIZERS)
DEFAULT_SYNTHESIS = registry.DEFAULT_SYNTHESIS
DEFAULT_GUIDANCE = registry.DEFAULT_GUIDANCE
LiveLinkFormatError = live_link.LiveLinkFormatError
write_live_link_csv = live_link.write_live_link_csv
read_live_link_csv = live_link.read_live_link_csv
eye_rotations_from_look_keys = live_link.eye_rotations_from_look_keys
LIVE_LINK_ROTATIONS = live_link.ROTATIONS

__all__ = ["ARKIT_NAMES", "FLAME_EXPRESSION_DIM", "CurvesFormatError", "validate_curves", "reading_sentence", "load_curves",
           "SYNTHESIS_MODELS", "DEFAULT_SYNTHESIS", "DEFAULT_GUIDANCE", "LiveLinkFormatError", "write_live_link_csv",
           "read_live_link_csv", "eye_rotations_from_look_keys", "LIVE_LINK_ROTATIONS"]
