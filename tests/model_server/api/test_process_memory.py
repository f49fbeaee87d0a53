"""The model process's allocator settings, observed through glibc's own report of its arenas."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# A child process: the setting is process-wide and cannot be undone. Eight threads each allocate and free
# in turn; malloc_info then lists every arena ("<heap nr=...>") glibc made.
ARENAS_AFTER_THREADS = textwrap.dedent("""
    import ctypes, ctypes.util, sys, tempfile, threading
    from model_server.api.process_memory import limit_allocator_arenas
    if sys.argv[1] == "limited":
        assert limit_allocator_arenas()
    barrier = threading.Barrier(8)
    def work():
        barrier.wait()  # all at once: each wants an arena of its own
        for _ in range(200):
            blocks = [bytearray(4096) for _ in range(64)]
            del blocks
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.fopen.restype = ctypes.c_void_p
    path = tempfile.mktemp()
    handle = libc.fopen(path.encode(), b"w")
    libc.malloc_info(0, ctypes.c_void_p(handle))
    libc.fclose(ctypes.c_void_p(handle))
    print(open(path).read().count("<heap nr="))
""")


def arenas_after_threads(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", ARENAS_AFTER_THREADS, mode], capture_output=True, text=True, check=True)
    return int(done.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_info")
def test_the_model_process_s_threads_share_at_most_two_allocator_arenas():
    from model_server.api.process_memory import ARENAS

    assert arenas_after_threads("default") > ARENAS  # the threads do get arenas of their own otherwise
    assert arenas_after_threads("limited") <= ARENAS
