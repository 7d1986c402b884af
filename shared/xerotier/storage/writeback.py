"""Start writing a file's dirty pages to disk early, without waiting (Linux ``sync_file_range``).

A multi-gigabyte upload would otherwise pile up dirty pages until the kernel throttles the writer
or the final ``fsync`` pays for the whole disk write at once. Starting write-back as the bytes
arrive overlaps the disk with the network; the final ``fsync`` stays (durability) but has little
left to do. Elsewhere this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import cache

SYNC_FILE_RANGE_WRITE = 2


@cache
def _sync_file_range():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        func = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]
    func.restype = ctypes.c_int
    return func


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to begin writing ``[offset, offset + length)`` of ``fd``; never waits for I/O."""
    func = _sync_file_range()
    if func is not None:
        func(fd, offset, length, SYNC_FILE_RANGE_WRITE)
