"""How the model process asks glibc's allocator to hold less memory (no-ops on other C libraries)."""

from __future__ import annotations

import ctypes
import ctypes.util

_LIBC = ctypes.CDLL(ctypes.util.find_library("c")) if ctypes.util.find_library("c") else None
M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)
ARENAS = 2


def limit_allocator_arenas() -> bool:
    """At most ARENAS malloc arenas, set before the server starts its threads. glibc gives threads arenas
    of their own (up to eight per core), and the request threads' arenas kept freed memory that no
    trim returned: under bench/server_memory.py the process crept up round after round. True when set."""
    mallopt = getattr(_LIBC, "mallopt", None)
    return bool(mallopt is not None and mallopt(M_ARENA_MAX, ARENAS) == 1)


def release_freed_memory() -> None:
    """Hand memory freed by the last job back to the system (glibc keeps it otherwise, and a server
    that ran one long clip would hold that peak for ever)."""
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)
