"""Sniff any uploaded file for content a loader would unpickle, whatever its name (pure).

``torch.load`` takes any file (zip first, then tar, then raw pickles), ``numpy.load(allow_pickle=
True)`` unpickles anything that is neither a zip nor a ``.npy``, and ``joblib.load`` first
decompresses what starts like zlib, gzip, bz2, xz, lzma or lz4. So the content decides, never the
suffix (CVE-2025-1889, GHSA-769v-p64c-89pr): a file that must be a checkpoint is scanned strictly;
any other file is walked from its first byte as an unpickler would read it (``sniff_stream``) — after
decompression where joblib would decompress — and every import reachable is held to the allowlist.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import json
import lzma
import zlib
from typing import BinaryIO

from xerotier.errors import ValidationFailed
from xerotier.validation import npy_check
from xerotier.validation.pickle_scan import (
    GGUF_MAGIC,
    MAX_PICKLE_BYTES,
    NOT_A_PICKLE,
    ZIP_MAGIC,
    PickleScan,
    is_legacy_magic,
    is_tar,
    scan_checkpoint,
    scan_legacy,
    scan_zip,
    sniff_stream,
)

MAX_DECOMPRESSED = MAX_PICKLE_BYTES
_CHUNK = 1 << 20
_LZ4_MAGIC = b"\x04\x22\x4d\x18"
_ZFILE_HEADER = 2 + 19  # joblib's b"ZF" + the hex length padded to 19 characters


def _reject(file: str, rule: str) -> ValidationFailed:
    return ValidationFailed(f"{file}: {rule}")


class _Inflate(io.RawIOBase):
    """A zlib stream read from ``offset`` of ``raw`` (what joblib's zlib readers see)."""

    def __init__(self, raw: BinaryIO, offset: int) -> None:
        raw.seek(offset)
        self._raw = raw
        self._inflater = zlib.decompressobj()
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            if self._inflater.eof:
                return 0
            chunk = self._raw.read(_CHUNK)
            if not chunk:
                return 0
            self._pending = self._inflater.decompress(chunk, len(buffer))
            if not self._pending and self._inflater.unconsumed_tail:
                self._pending = self._inflater.decompress(self._inflater.unconsumed_tail, len(buffer))
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        if not self._pending and self._inflater.unconsumed_tail:
            self._pending = self._inflater.decompress(self._inflater.unconsumed_tail, _CHUNK)
        return n


def _decompressed(stream: BinaryIO, head: bytes, file: str) -> BinaryIO | None:
    """The decompressing reader joblib would use on this file, if it would use one."""
    if head.startswith(b"ZF"):
        offset = _ZFILE_HEADER + (1 if head[_ZFILE_HEADER : _ZFILE_HEADER + 1] == b" " else 0)
        return io.BufferedReader(_Inflate(stream, offset))
    if head.startswith(b"x"):
        return io.BufferedReader(_Inflate(stream, 0))
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
    if head.startswith(b"BZ"):
        return bz2.BZ2File(stream)  # type: ignore[return-value]
    if head.startswith(b"\xfd7zXZ") or head.startswith(b"]\x00"):
        return lzma.LZMAFile(stream)  # type: ignore[return-value]
    if head.startswith(_LZ4_MAGIC):
        raise _reject(file, "is lz4-compressed: its content cannot be checked for pickles")
    return None


def scan_file(stream: BinaryIO, size: int, file: str, checkpoint: bool) -> PickleScan:
    """What a loader could unpickle from this file; ``NOT_A_PICKLE`` (no streams) when nothing.

    ``checkpoint``: the name says it is a PyTorch checkpoint (``.bin``, ``.pt`` …): strict scan.
    """
    if checkpoint:
        return scan_checkpoint(stream, size, file)
    head = stream.read(npy_check.MAX_HEADER_READ)
    stream.seek(0)
    if head[:4] == GGUF_MAGIC:
        raise _reject(file, "GGUF files are not a supported format (upload safetensors, bin or exl2)")
    if head[:4] == ZIP_MAGIC:
        return scan_zip(stream, size, file, require_data_pkl=False)
    if head[:6] == npy_check.NPY_MAGIC:
        npy_check.check_npy_header(head, file)
        return NOT_A_PICKLE
    if is_tar(head):
        raise _reject(file, "is a tar archive, which torch.load would open as a legacy checkpoint")
    inner = _decompressed(stream, head, file)
    if inner is not None:
        found, ends, pos = sniff_stream(inner, MAX_DECOMPRESSED, file)
        if pos >= MAX_DECOMPRESSED:
            raise _reject(file, f"decompresses to more than {MAX_DECOMPRESSED} bytes; cannot be checked")
        stream.seek(0)
        return PickleScan(len(ends) or int(bool(found)), frozenset(found))
    found, ends, _ = sniff_stream(stream, size, file)
    stream.seek(0)
    if ends and _legacy_after(stream, ends[0]):
        return scan_legacy(stream, size, file)
    return PickleScan(len(ends) or int(bool(found)), frozenset(found)) if (ends or found) else NOT_A_PICKLE


def _legacy_after(stream: BinaryIO, end: int) -> bool:
    found = is_legacy_magic(stream, end)
    stream.seek(0)
    return found


def check_utf8(stream: BinaryIO, file: str) -> None:
    """The whole file decodes as UTF-8 (read in chunks: bounded memory)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _reject(file, "not UTF-8 text") from None


def check_json_file(stream: BinaryIO, size: int, file: str, cap: int) -> None:
    """A ``.json`` file parses as JSON (up to ``cap`` bytes; larger ones: UTF-8 opening a document)."""
    if size > cap:
        first = stream.read(4096).lstrip()
        stream.seek(0)
        if first[:3] == b"\xef\xbb\xbf":
            first = first[3:].lstrip()
        if first[:1] not in (b"{", b"["):
            raise _reject(file, "not valid JSON (does not open an object or an array)")
        check_utf8(stream, file)
        return
    raw = stream.read(cap + 1)
    try:
        json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        raise _reject(file, f"not valid JSON ({reason})") from None
    except (RecursionError, ValueError) as exc:
        raise _reject(file, f"not valid JSON ({type(exc).__name__})") from None
