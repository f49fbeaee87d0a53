"""The curves format and ARKit names, shared with the model process (defined once, in model_server).

Inside the installed extension, model_server/ is bundled in this package; in a repo checkout it is
the sibling package. Both modules imported here are stdlib-only.
"""

try:
    from .model_server import arkit, curves  # packaged extension
except ImportError:  # repo checkout: avi_talking_blender/ and model_server/ side by side
    from model_server import arkit, curves  # type: ignore[no-redef]

ARKIT_NAMES = arkit.ARKIT_NAMES
FLAME_EXPRESSION_DIM = arkit.FLAME_EXPRESSION_DIM
CurvesFormatError = curves.CurvesFormatError
validate_curves = curves.validate_curves
load_curves = curves.load_curves

__all__ = ["ARKIT_NAMES", "FLAME_EXPRESSION_DIM", "CurvesFormatError", "validate_curves", "load_curves"]
