"""Walk a pickle's opcodes the way the unpickler reads them, without unpickling (pure).

The walker reads opcodes itself (``pickletools`` only names them and decodes small arguments) so
that it follows exactly what an unpickler would: lengths are checked against the bytes left before
anything is read (no allocation an attacker sizes), and protocol-4 frames are tracked. CPython's
two unpicklers disagree about where a stream ends when its STOP is not the last opcode of a frame
(the C one resumes at the frame's end, after bytes the scanner would otherwise read as the next
pickle), so a frame must end exactly at an opcode boundary, no opcode may straddle a frame's end, a
frame may not open inside another, and STOP must close its frame: anything else is refused.

Two modes:

* **strict** (a file that must be a pickle: a checkpoint, a ``.pkl`` member): every opcode must
  decode and the stream must end with STOP; any doubt refuses the file.
* **sniff** (any other file, whatever its name): the walk stops where every unpickler stops too
  (an unknown opcode byte, the end of the file, an unsupported protocol), and an argument that
  ``pickletools`` cannot decode but an unpickler might accept (``I0x10``) is skipped, not trusted,
  so the walk covers *at least* what a real unpickler would execute. Every import reached is checked
  against the allowlist as in strict mode.
"""

from __future__ import annotations

import io
import pickletools
import struct
import warnings
from dataclasses import dataclass
from typing import BinaryIO

from xerotier.checkpoint.text import clean
from xerotier.errors import ValidationFailed

MAX_OPS = 50_000_000
MAX_LINE = 64 * 1024  # a newline-terminated argument (module names, decimal ints …)
HIGHEST_PROTOCOL = 5

_CODES: dict[int, pickletools.OpcodeInfo] = {ord(op.code): op for op in pickletools.opcodes}
_LEN_FORMATS = {
    pickletools.TAKEN_FROM_ARGUMENT1: ("<B", 1),
    pickletools.TAKEN_FROM_ARGUMENT4: ("<i", 4),
    pickletools.TAKEN_FROM_ARGUMENT4U: ("<I", 4),
    pickletools.TAKEN_FROM_ARGUMENT8U: ("<Q", 8),
}
_UNICODE_ARGS = frozenset({"BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8"})
_LATIN1_ARGS = frozenset({"BINSTRING", "SHORT_BINSTRING"})
_LONG_ARGS = frozenset({"LONG1", "LONG4"})


class Truncated(Exception):
    """The file ends inside an opcode: every unpickler stops here too."""


@dataclass
class Op:
    name: str
    arg: object
    pos: int
    end: int
    undecoded: bool = False  # sniff mode: an argument skipped, its value unknown


def _reject(file: str, rule: str) -> ValidationFailed:
    return ValidationFailed(f"{file}: {rule}")


class OpReader:
    """Reads one opcode at a time from ``data`` (positioned at a pickle's first byte)."""

    def __init__(self, data: BinaryIO, size: int, file: str, strict: bool, start: int = 0) -> None:
        """``size`` bounds the bytes readable from ``start`` (the file's size, or a cap)."""
        self.data = data
        self.size = size
        self.file = file
        self.strict = strict
        self.pos = start  # read sequentially only: works on decompressing streams too
        self.frame_end: int | None = None

    def _need(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.size:
            raise Truncated
        try:
            raw = self.data.read(n)
        except Exception:  # a corrupt compressed stream (zlib.error, LZMAError …): the loader stops too
            raise Truncated from None
        self.pos += len(raw)
        if len(raw) != n:
            raise Truncated
        return raw

    def _readline(self) -> bytes:
        try:
            line = self.data.readline(min(MAX_LINE, max(self.size - self.pos, 0)))
        except Exception:  # as in _need
            raise Truncated from None
        self.pos += len(line)
        return line

    def _line(self) -> bytes:
        line = self._readline()
        if line.endswith(b"\n"):
            return line
        if len(line) < MAX_LINE:
            raise Truncated  # the file ends inside the line
        if self.strict:
            raise _reject(self.file, f"pickle has an argument line longer than {MAX_LINE} bytes")
        while True:  # sniff: skip the rest of the line, whatever it is
            more = self._readline()
            if not more:
                raise Truncated
            if more.endswith(b"\n"):
                return b"\n"

    def next(self) -> Op | None:
        """The next opcode, or None at an unknown opcode byte (every unpickler stops there)."""
        pos = self.pos
        if self.frame_end is not None and pos == self.frame_end:
            self.frame_end = None
        code = self._need(1)[0]
        info = _CODES.get(code)
        if info is None:
            return None
        op = self._argument(info, pos)
        if self.frame_end is not None and op.end > self.frame_end:
            raise _reject(self.file, f"pickle opcode {op.name} at byte {pos} straddles the end of its frame")
        if op.name == "FRAME":
            self._open_frame(op)
        return op

    def _open_frame(self, op: Op) -> None:
        if self.frame_end is not None:
            raise _reject(self.file, f"pickle frame at byte {op.pos} opens inside another frame")
        length = op.arg
        assert isinstance(length, int)
        if length > self.size - op.end:
            raise Truncated
        if length == 0:
            return
        self.frame_end = op.end + length

    def _argument(self, info: pickletools.OpcodeInfo, pos: int) -> Op:
        desc = info.arg
        if desc is None:
            return Op(info.name, None, pos, pos + 1)
        if desc.n >= 0:
            fixed = desc.reader(io.BytesIO(self._need(desc.n)))
            return Op(info.name, fixed, pos, self.pos)
        if desc.n == pickletools.UP_TO_NEWLINE:
            return self._newline_argument(info, pos)
        fmt, width = _LEN_FORMATS[desc.n]
        (length,) = struct.unpack(fmt, self._need(width))
        if length < 0:  # both unpicklers raise ("negative byte count"): a stop when sniffing
            if not self.strict:
                raise Truncated
            raise _reject(self.file, f"pickle opcode {info.name} at byte {pos} has a negative length")
        raw = self._need(length)
        end = self.pos
        value: object
        if info.name in _UNICODE_ARGS:
            try:
                value = raw.decode("utf-8", "surrogatepass")
            except UnicodeDecodeError:
                if self.strict:
                    raise _reject(self.file, f"pickle string at byte {pos} is not UTF-8") from None
                raise Truncated from None  # every unpickler fails here, nothing after it runs
        elif info.name in _LATIN1_ARGS:
            value = raw.decode("latin-1")
        elif info.name in _LONG_ARGS:
            value = int.from_bytes(raw, "little", signed=True) if length <= 64 else None
        else:
            value = None  # bytes payloads: never needed, never kept
        return Op(info.name, value, pos, end)

    def _newline_argument(self, info: pickletools.OpcodeInfo, pos: int) -> Op:
        first = self._line()
        if info.name in ("GLOBAL", "INST"):
            return self._import_argument(info, pos, first, self._line())
        end = self.pos
        lines = [first]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # escapes in protocol-0 strings
                value = info.arg.reader(io.BytesIO(b"".join(lines)))  # type: ignore[union-attr]
        except (ValueError, UnicodeDecodeError, OverflowError) as exc:
            if self.strict:
                raise _reject(
                    self.file,
                    f"pickle opcode {info.name} at byte {pos} has an unreadable argument "
                    f"({clean(str(exc), 80)})",
                ) from None
            return Op(info.name, None, pos, end, undecoded=True)
        return Op(info.name, value, pos, end)

    def _import_argument(self, info: pickletools.OpcodeInfo, pos: int, module: bytes, name: bytes) -> Op:
        """Both unpicklers decode the two lines as strict UTF-8, without escapes (not as genops)."""
        try:
            value = (module[:-1].decode("utf-8"), name[:-1].decode("utf-8"))
        except UnicodeDecodeError:
            if self.strict:
                rule = f"pickle {info.name} at byte {pos} names a non-UTF-8 module"
                raise _reject(self.file, rule) from None
            raise Truncated from None  # the unpickler raises here: nothing after it runs
        return Op(info.name, value, pos, self.pos)
