"""Errors a user can act on. The API turns `InputError` into a 4xx answer carrying its message."""


class InputError(ValueError):
    """Bad input from the user (audio, text, options). Message is shown verbatim in Blender and the CLI."""


class AudioError(InputError):
    """The audio cannot be used: corrupt, empty, silent, too long, unsupported."""


class JobCancelled(Exception):
    """Raised inside a pipeline when the user cancelled the job."""


def path_problem(exc: Exception) -> str:
    """Why a path could not be opened, without echoing it: "File name too long", "Permission denied"."""
    return getattr(exc, "strerror", None) or "not a valid path"
