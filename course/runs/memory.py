"""Keep a long-running server's memory near what it uses, not what it once used.

Each Streamlit session runs its script in its own thread, and glibc gives busy threads heaps
(arenas) of their own that keep freed memory. A page that evaluates 10,000 test images
allocates tens of MB at a time; after the first such free, glibc raises its threshold for
giving big blocks back to the system, so later ones stay in those heaps. Two settings undo
that: few arenas, and a fixed threshold so every block over 1 MB is returned when freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter numbers (malloc.h)
M_ARENA_MAX = -8


def return_freed_memory() -> bool:
    """Apply both settings to this process (glibc only); True when they took effect."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows): nothing to do
        return False
    return bool(mallopt(M_ARENA_MAX, 2)) and bool(mallopt(M_MMAP_THRESHOLD, 1 << 20))
