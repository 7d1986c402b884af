"""Read and check a safetensors header without touching the tensor data (pure, bounded reads).

Format (huggingface/safetensors README, ``safetensors/src/tensor.rs``): 8-byte little-endian header
length N, then N bytes of UTF-8 JSON mapping tensor names to ``{"dtype", "shape", "data_offsets":
[begin, end]}`` (offsets relative to the data region that follows), plus an optional
``__metadata__`` string map. The checks mirror the Rust reader (HeaderTooLarge, InvalidHeaderLength,
InvalidOffset, TensorInvalidInfo, MetadataIncompleteBuffer) plus the hardening of
reference/reliability.md §7.3: the header starts with ``{``, no duplicate keys, capped tensor count
and rank.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from functools import cached_property
from itertools import repeat
from operator import itemgetter
from typing import Any, BinaryIO, NamedTuple

from xerotier.checkpoint.text import clean
from xerotier.domain.dtypes import DTYPE_BITS
from xerotier.errors import ValidationFailed

MAX_HEADER_BYTES = 100_000_000  # safetensors/src/tensor.rs MAX_HEADER_SIZE
MAX_TENSORS = 1_000_000  # a 100 MB header of tiny entries is a CPU/RAM DoS (reliability.md §7.3)
MAX_RANK = 16
MAX_NUMEL = 1 << 62  # checked multiplication (ValidationOverflow)
#: bytes per element (fractional for sub-byte dtypes); kept for callers that size tensors.
DTYPE_BYTES: dict[str, float] = {name: bits / 8 for name, bits in DTYPE_BITS.items()}
FLOAT_DTYPES = frozenset(d for d in DTYPE_BITS if d.startswith(("F", "BF", "C")))


class TensorInfo(NamedTuple):
    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int
    numel: int


_new_tensor = tuple.__new__  # builds a TensorInfo without NamedTuple's Python-level __new__


@dataclass(frozen=True)
class SafetensorsHeader:
    """A checked header. ``names`` and the counts are ready; ``tensors`` is built on first use."""

    names: list[str]
    metadata: dict[str, str]
    header_length: int
    data_bytes: int  # the data region, which the tensors cover exactly
    float_numel: int  # elements of floating-point tensors
    _columns: tuple[list, ...] = field(repr=False)  # dtypes, shapes, begins, ends, numels

    @cached_property
    def tensors(self) -> dict[str, TensorInfo]:
        dtypes, shapes, begins, ends, numels = self._columns
        rows = zip(self.names, dtypes, map(tuple, shapes), begins, ends, numels, strict=True)
        return dict(zip(self.names, map(tuple.__new__, repeat(TensorInfo), rows), strict=True))


def _fail(file: str, rule: str, tensor: str | None = None) -> ValidationFailed:
    where = f"{file}: tensor '{clean(tensor)}'" if tensor is not None else file
    return ValidationFailed(f"{where}: {rule}")


def read_header(stream: BinaryIO, file_size: int, file: str) -> SafetensorsHeader:
    """Parse and check the header of a safetensors file of ``file_size`` bytes."""
    raw, data_size = read_raw_header(stream, file_size, file)
    return parse_header_bytes(raw, data_size, file)


def read_raw_header(stream: BinaryIO, file_size: int, file: str) -> tuple[bytes, int]:
    """The header bytes (bounded read) and the size of the data region that follows them."""
    prefix = stream.read(8)
    if len(prefix) < 8:
        raise _fail(file, "file is shorter than the 8-byte header length")
    (length,) = struct.unpack("<Q", prefix)
    if length > MAX_HEADER_BYTES:
        raise _fail(file, f"header length {length} exceeds the {MAX_HEADER_BYTES}-byte cap")
    if 8 + length > file_size:
        raise _fail(file, f"header length {length} runs past the end of the file ({file_size} bytes)")
    raw = stream.read(length)
    if len(raw) != length:
        raise _fail(file, f"file ended after {8 + len(raw)} bytes, inside the {length}-byte header")
    return raw, file_size - 8 - length


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc = dict(pairs)
    if len(doc) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Duplicate(key)
            seen.add(key)
    return doc


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def parse_header_bytes(raw: bytes, data_size: int, file: str) -> SafetensorsHeader:
    """Check the JSON header ``raw`` against a data region of ``data_size`` bytes."""
    parsed, failures = parse_many([(file, raw, data_size)])
    if failures:
        raise failures[0]
    return parsed[file]


def parse_many(
    items: list[tuple[str, bytes, int]],
) -> tuple[dict[str, SafetensorsHeader], list[ValidationFailed]]:
    """Check many headers ``(file, raw, data_size)`` at once; a file's first problem excludes it.

    Each tensor is checked once, by one path that names the file, the tensor and the rule it breaks.
    """
    failures: list[ValidationFailed] = []
    docs: list[tuple[str, str, dict[str, Any], dict[str, str] | None, int, int]] = []
    for file, raw, data_size in items:
        try:
            docs.append((file, *_document(file, raw), data_size, len(raw)))
        except ValidationFailed as failure:
            failures.append(failure)
    parsed: dict[str, SafetensorsHeader] = {}
    for file, text, doc, metadata, data_size, length in docs:
        try:
            columns, float_numel = _check_tensors(file, doc, data_size)
            # Every key is followed by one ':'; more colons than parsed keys means a colon inside
            # a string or a repeated key (json keeps the last silently): then re-parse exactly.
            keys = len(doc) + (1 + len(metadata) if metadata is not None else 0) + sum(map(len, doc.values()))
            if text.count(":") != keys:
                _loads(text, file, _no_duplicates)
        except ValidationFailed as failure:
            failures.append(failure)
            continue
        parsed[file] = SafetensorsHeader(list(doc), metadata or {}, length, data_size, float_numel, columns)
    return parsed, failures


def _document(file: str, raw: bytes) -> tuple[str, dict[str, Any], dict[str, str] | None]:
    """(text, tensor entries, ``__metadata__`` or None) of one header, checked as JSON."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _fail(file, "header is not valid UTF-8") from None
    if not text.startswith("{"):
        raise _fail(file, "header does not start with '{'")
    doc = _loads(text, file, None)
    if not isinstance(doc, dict):
        raise _fail(file, "header is not a JSON object")
    metadata = doc.pop("__metadata__", None)
    if metadata is not None and (
        not isinstance(metadata, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    ):
        raise _fail(file, "__metadata__ must map strings to strings")
    if len(doc) > MAX_TENSORS:
        raise _fail(file, f"header lists {len(doc)} tensors, more than the cap of {MAX_TENSORS}")
    return text, doc, metadata


def _check_tensors(file: str, doc: dict[str, Any], data_size: int) -> tuple[tuple[list, ...], int]:
    """Every tensor's rules and the data region's layout: raises naming the file, tensor and rule."""
    tensors = [_tensor(file, name, entry) for name, entry in doc.items()]
    _check_layout(file, {t.name: t for t in tensors}, data_size)
    columns = tuple(list(column) for column in zip(*tensors, strict=True))[1:] if tensors else ([],) * 5
    return columns, sum(t.numel for t in tensors if t.dtype in FLOAT_DTYPES)


def _loads(text: str, file: str, hook: Any) -> Any:
    try:
        return json.loads(text, object_pairs_hook=hook)
    except json.JSONDecodeError as exc:
        raise _fail(file, f"header is not valid JSON ({exc.msg} at byte {exc.pos})") from None
    except _Duplicate as dup:
        raise _fail(file, f"header repeats the key '{clean(dup.key)}'") from None
    except RecursionError:
        raise _fail(file, "header nests too deeply") from None
    except ValueError as exc:  # an integer past Python's int/str digit limit
        raise _fail(file, f"header holds a number that cannot be read ({clean(str(exc), 80)})") from None


def _tensor(file: str, name: str, entry: object) -> TensorInfo:
    if type(entry) is not dict:
        raise _fail(file, "entry is not an object", name)
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    bits = DTYPE_BITS.get(dtype) if type(dtype) is str else None
    if bits is None:
        raise _fail(file, f"unknown dtype '{clean(str(dtype), 40)}'", name)
    if type(shape) is not list:
        raise _fail(file, "shape must be a list of non-negative integers", name)
    if len(shape) > MAX_RANK:
        raise _fail(file, f"shape has {len(shape)} dimensions, more than {MAX_RANK}", name)
    numel = 1
    for dim in shape:
        if type(dim) is not int or dim < 0:
            raise _fail(file, "shape must be a list of non-negative integers", name)
        numel *= dim
    if type(offsets) is not list or len(offsets) != 2:
        raise _fail(file, _OFFSETS_RULE, name)
    begin, end = offsets
    if type(begin) is not int or type(end) is not int or begin < 0 or begin > end:
        raise _fail(file, _OFFSETS_RULE, name)
    if numel > MAX_NUMEL:
        raise _fail(file, "shape × dtype size overflows", name)
    size = numel * bits
    if size % 8:
        raise _fail(file, f"shape × dtype size is {size} bits, not a whole number of bytes", name)
    if size >> 3 != end - begin:
        raise _fail(
            file, f"data_offsets span {end - begin} bytes but shape × dtype size is {size >> 3}", name
        )
    return _new_tensor(TensorInfo, (name, dtype, tuple(shape), begin, end, numel))


_OFFSETS_RULE = "data_offsets must be two non-negative integers [begin, end] with begin <= end"


def _check_layout(file: str, tensors: dict[str, TensorInfo], data_size: int) -> None:
    cursor = 0
    for info in sorted(tensors.values(), key=itemgetter(3, 4)):
        if info.begin != cursor:
            rule = "overlaps the previous tensor" if info.begin < cursor else f"leaves a gap at byte {cursor}"
            raise _fail(file, f"data_offsets {rule}", info.name)
        cursor = info.end
    if cursor != data_size:
        raise _fail(file, f"tensors cover {cursor} bytes but the data region holds {data_size}")
