"""Refuse numpy ``.npy`` arrays whose dtype holds Python objects (pure).

``numpy.load(allow_pickle=True)`` unpickles the data of an object array, so an object dtype is a
pickle in disguise; plain dtypes (numbers, booleans, fixed-size strings, structured records of
those) are raw bytes and are accepted. The header is a Python literal, read with
``ast.literal_eval`` (which evaluates nothing), bounded as numpy bounds it.
"""

from __future__ import annotations

import ast
import re
import struct

from xerotier.checkpoint.text import clean
from xerotier.errors import ValidationFailed

NPY_MAGIC = b"\x93NUMPY"
MAX_HEADER = 10_000  # numpy.lib.format's default max_header_size
MAX_HEADER_READ = len(NPY_MAGIC) + 2 + 4 + MAX_HEADER
#: byte order, kind (never 'O'), size, optional datetime unit
_PLAIN = re.compile(r"^[<>|=]?(?:[?bBhHiIlLqQpPefdgFDG]|[biufcSUVa]\d+|[mM]8(?:\[\d*[A-Za-z]+\])?)$")


def _reject(file: str, rule: str) -> ValidationFailed:
    return ValidationFailed(f"{file}: {rule}")


def check_npy_header(head: bytes, file: str) -> None:
    """``head``: the first bytes of the array (at least its header); refuse object dtypes."""
    if head[:6] != NPY_MAGIC or len(head) < 10:
        raise _reject(file, "not a readable .npy array")
    major = head[6]
    if major == 1:
        (length,) = struct.unpack("<H", head[8:10])
        start = 10
    elif major in (2, 3):
        if len(head) < 12:
            raise _reject(file, "not a readable .npy array")
        (length,) = struct.unpack("<I", head[8:12])
        start = 12
    else:
        raise _reject(file, f".npy format version {major} is not supported")
    if length > MAX_HEADER or start + length > len(head):
        raise _reject(file, f".npy header is longer than {MAX_HEADER} bytes or truncated")
    text = head[start : start + length].decode("utf-8" if major == 3 else "latin-1", "replace")
    try:
        header = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise _reject(file, ".npy header is not a readable literal") from None
    if not isinstance(header, dict) or "descr" not in header:
        raise _reject(file, ".npy header has no dtype")
    if not _plain(header["descr"], 0):
        raise _reject(
            file,
            f"numpy array of dtype {clean(repr(header['descr']), 80)} holds Python objects "
            "(loading it unpickles them): store plain dtypes",
        )


def _plain(descr: object, depth: int) -> bool:
    if depth > 16:
        return False
    if isinstance(descr, str):
        return bool(_PLAIN.match(descr))
    if isinstance(descr, list):
        for field in descr:
            if not isinstance(field, tuple) or len(field) not in (2, 3):
                return False
            if not _plain(field[1], depth + 1):
                return False
        return True
    return False
