"""Scan PyTorch ``.bin/.pt/.pth/.ckpt`` pickles for imports without ever unpickling (pure).

Walks the opcode stream with ``pickletools.genops`` (which executes nothing) and simulates the stack
just enough to resolve every import: ``GLOBAL``/``INST`` carry the name inline, ``STACK_GLOBAL`` takes
it from the stack (strings pushed directly or fetched back from the memo). Anything outside
``ALLOWED_GLOBALS`` is rejected (default deny, reliability.md §7.1: denylists get bypassed), and so is
an import whose name is computed, a copyreg extension code, or any parse error (fail closed).
Containers are recognised by content, not extension: a zip (modern ``torch.save``) has its ``*.pkl``
members scanned; anything else is a legacy raw pickle stream (torch's legacy format is five pickles
back to back: magic number, protocol, sys info, the object, storage keys; then raw storage bytes).
"""

from __future__ import annotations

import io
import math
import pickletools
import warnings
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from xerotier.errors import ValidationFailed
from xerotier.validation.text import clean

MAX_PICKLE_BYTES = 256 * 1024 * 1024  # one pickle stream (the tensors live outside it)
MAX_OPS = 50_000_000
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # torch/serialization.py MAGIC_NUMBER
ZIP_MAGIC = b"PK\x03\x04"
GGUF_MAGIC = b"GGUF"

_TORCH_STORAGES = [
    "Long",
    "Float",
    "Half",
    "Double",
    "BFloat16",
    "Bool",
    "Char",
    "Short",
    "Int",
    "Byte",
    "ComplexFloat",
    "ComplexDouble",
    "QInt8",
    "QInt32",
    "QUInt8",
    "QUInt4x2",
    "QUInt2x4",
]
_TORCH_DTYPES = [
    "float16",
    "float32",
    "float64",
    "bfloat16",
    "half",
    "float",
    "double",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "bool",
    "complex64",
    "complex128",
    "float8_e4m3fn",
    "float8_e5m2",
    "float8_e4m3fnuz",
    "float8_e5m2fnuz",
]
#: What torch checkpoints legitimately import: picklescan ``_safe_globals`` and torch's
#: ``_weights_only_unpickler`` allowlist (reliability.md §7.1, §7.2).
ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    [
        ("collections", "OrderedDict"),
        ("torch._utils", "_rebuild_tensor"),
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch._utils", "_rebuild_tensor_v3"),
        ("torch._utils", "_rebuild_parameter"),
        ("torch._utils", "_rebuild_parameter_with_state"),
        ("torch._utils", "_rebuild_qtensor"),
        ("torch._utils", "_rebuild_device_tensor_from_numpy"),
        ("torch._tensor", "_rebuild_from_type_v2"),
        ("torch.nn.parameter", "Parameter"),
        ("torch", "Size"),
        ("torch", "Tensor"),
        ("torch", "device"),
        ("torch", "UntypedStorage"),
        ("torch.storage", "UntypedStorage"),
        ("torch.storage", "TypedStorage"),
        ("torch", "per_tensor_affine"),
        ("torch", "per_channel_affine"),
        ("_codecs", "encode"),  # protocol-2 pickles encode bytes this way
        ("numpy", "dtype"),
        ("numpy", "ndarray"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        *(("torch", f"{kind}Storage") for kind in _TORCH_STORAGES),
        *(("torch", dtype) for dtype in _TORCH_DTYPES),
    ]
)
FLOAT_STORAGES = frozenset({"HalfStorage", "FloatStorage", "BFloat16Storage", "DoubleStorage"})
_REBUILDERS = frozenset({("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor")})
_INT_OPS = frozenset({"INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4"})
_TUPLE_SIZES = {"EMPTY_TUPLE": 0, "TUPLE1": 1, "TUPLE2": 2, "TUPLE3": 3}
_STRING_OPS = frozenset(
    {"STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8"}
)
_MEMO_PUT = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_MEMO_GET = frozenset({"GET", "BINGET", "LONG_BINGET"})


class _Mark:
    pass


@dataclass(frozen=True)
class _Ref:
    """An imported global, as a value on the simulated stack."""

    module: str
    name: str


@dataclass(frozen=True)
class _Persisted:
    """A persistent id (torch: ``('storage', <type>, key, location, numel)``)."""

    pid: object


@dataclass(frozen=True)
class TensorRecord:
    """One ``_rebuild_tensor_v2(storage, offset, size, …)`` call: enough to count parameters."""

    storage_type: str  # e.g. "HalfStorage"
    storage_key: str
    offset: int
    shape: tuple[int, ...]


_MARK = _Mark()
_UNKNOWN = object()


@dataclass(frozen=True)
class PickleScan:
    """What a scan saw: the pickle streams read, every import they name, the tensors rebuilt."""

    streams: int
    globals: frozenset[tuple[str, str]]
    tensors: tuple[TensorRecord, ...] = ()

    def parameter_count(self) -> int:
        """Elements of floating-point tensors, each (storage, offset, shape) once (tied weights)."""
        unique = {(t.storage_key, t.offset, t.shape): t for t in self.tensors}
        return sum(math.prod(t.shape) for t in unique.values() if t.storage_type in FLOAT_STORAGES)


def _reject(file: str, rule: str) -> ValidationFailed:
    return ValidationFailed(f"{file}: {rule}")


def scan_stream(
    data: BinaryIO, file: str, limit: int = MAX_PICKLE_BYTES, tensors: list[TensorRecord] | None = None
) -> tuple[set[tuple[str, str]], int]:
    """Scan one pickle starting at the stream's position; return its imports and its end offset.

    Tensor rebuild calls are appended to ``tensors`` when given.
    """
    found: set[tuple[str, str]] = set()
    records: list[TensorRecord] = tensors if tensors is not None else []
    stack: list[object] = []
    memo: dict[object, object] = {}
    start = data.tell()
    ops = 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # escapes in protocol-0 strings
            for opcode, arg, pos in pickletools.genops(data):
                ops += 1
                if ops > MAX_OPS or (pos is not None and pos - start > limit):
                    raise _reject(file, f"pickle stream is larger than the {limit}-byte cap")
                _step(opcode, arg, stack, memo, found, file, records)
                if opcode.name == "STOP":
                    return found, data.tell()
    except ValidationFailed:
        raise
    except Exception as exc:  # genops raises ValueError and friends on malformed input
        raise _reject(
            file, f"not a readable pickle stream ({type(exc).__name__}: {clean(str(exc), 120)})"
        ) from None
    raise _reject(file, "pickle stream ends without STOP")


def _pop_to_mark(stack: list[object], file: str) -> None:
    while stack:
        if stack.pop() is _MARK:
            return
    raise _reject(file, "malformed pickle: MARK missing")


def _step(opcode, arg, stack: list[object], memo: dict, found: set, file: str, records: list) -> None:  # type: ignore[no-untyped-def]
    name = opcode.name
    if name in ("GLOBAL", "INST"):
        module, _, attr = str(arg).partition(" ")
        _check_global(module, attr, found, file)
        if name == "GLOBAL":
            stack.append(_Ref(module, attr))
            return
    elif name == "STACK_GLOBAL":
        if len(stack) < 2:
            raise _reject(file, "malformed pickle: STACK_GLOBAL on a short stack")
        attr, module = stack.pop(), stack.pop()
        if not isinstance(module, str) or not isinstance(attr, str):
            raise _reject(file, "pickle imports a global whose name is computed at load time (STACK_GLOBAL)")
        _check_global(module, attr, found, file)
        stack.append(_Ref(module, attr))
        return
    elif name in ("EXT1", "EXT2", "EXT4"):
        raise _reject(file, f"pickle uses a copyreg extension code ({name}), which can import anything")
    if name in _MEMO_PUT or name == "MEMOIZE":
        if not stack:
            raise _reject(file, "malformed pickle: memo store on an empty stack")
        memo[len(memo) if name == "MEMOIZE" else arg] = stack[-1]
        return
    if name in _MEMO_GET:
        stack.append(memo.get(arg, _UNKNOWN))
        return
    if name == "DUP":
        stack.append(stack[-1] if stack else _UNKNOWN)
        return
    if name in _STRING_OPS:
        stack.append(arg if isinstance(arg, str) else _UNKNOWN)
        return
    if name in _INT_OPS:
        stack.append(arg if type(arg) is int else _UNKNOWN)
        return
    if name in _TUPLE_SIZES or name == "TUPLE":
        stack.append(_pop_tuple(stack, _TUPLE_SIZES.get(name), file))
        return
    if name == "BINPERSID" and stack:
        stack.append(_Persisted(stack.pop()))
        return
    if name == "REDUCE" and len(stack) >= 2:
        args, func = stack.pop(), stack.pop()
        _record_tensor(func, args, records)
        stack.append(_UNKNOWN)
        return
    before = opcode.stack_before
    if pickletools.markobject in before:
        _pop_to_mark(stack, file)
        count = before.index(pickletools.markobject)
    else:
        count = len(before)
    if count > len(stack):
        raise _reject(file, f"malformed pickle: {name} pops more than the stack holds")
    if count:
        del stack[-count:]
    for item in opcode.stack_after:
        stack.append(_MARK if item is pickletools.markobject else _UNKNOWN)


def _pop_tuple(stack: list[object], size: int | None, file: str) -> tuple:
    if size is None:  # TUPLE: everything down to the mark
        items: list[object] = []
        while stack:
            item = stack.pop()
            if item is _MARK:
                return tuple(reversed(items))
            items.append(item)
        raise _reject(file, "malformed pickle: MARK missing")
    if size > len(stack):
        raise _reject(file, "malformed pickle: TUPLE pops more than the stack holds")
    items = stack[len(stack) - size :]
    del stack[len(stack) - size :]
    return tuple(items)


def _record_tensor(func: object, args: object, records: list[TensorRecord]) -> None:
    """Note a tensor rebuild: its storage (from the persistent id), offset and shape."""
    if not isinstance(func, _Ref) or (func.module, func.name) not in _REBUILDERS:
        return
    if not isinstance(args, tuple) or len(args) < 3 or not isinstance(args[0], _Persisted):
        return
    pid, offset, shape = args[0].pid, args[1], args[2]
    if not (isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage" and isinstance(pid[1], _Ref)):
        return
    if type(offset) is int and isinstance(shape, tuple) and all(type(d) is int and d >= 0 for d in shape):
        records.append(TensorRecord(pid[1].name, str(pid[2]), offset, shape))


def _check_global(module: str, attr: str, found: set, file: str) -> None:
    found.add((module, attr))
    if (module, attr) not in ALLOWED_GLOBALS:
        raise _reject(
            file,
            f"pickle imports {clean(module, 100)}.{clean(attr, 100)}, which is not allowed in a checkpoint",
        )


def scan_checkpoint(stream: BinaryIO, file_size: int, file: str) -> PickleScan:
    """Scan a PyTorch checkpoint (zip container or legacy raw pickles) read from ``stream``."""
    head = stream.read(4)
    stream.seek(0)
    if head == GGUF_MAGIC:
        raise _reject(file, "GGUF files are not a supported format (upload safetensors, bin or exl2)")
    if head == ZIP_MAGIC:
        return _scan_zip(stream, file)
    return _scan_legacy(stream, file_size, file)


def _scan_zip(stream: BinaryIO, file: str) -> PickleScan:
    try:
        archive = zipfile.ZipFile(stream)
        members = [m for m in archive.infolist() if m.filename.endswith(".pkl")]
        if not members:
            raise _reject(file, "zip checkpoint holds no data.pkl")
        found: set[tuple[str, str]] = set()
        records: list[TensorRecord] = []
        for member in members:
            if member.file_size > MAX_PICKLE_BYTES:
                raise _reject(
                    file, f"{clean(member.filename)} is larger than the {MAX_PICKLE_BYTES}-byte cap"
                )
            with archive.open(member) as raw:
                data = io.BytesIO(raw.read(min(member.file_size, MAX_PICKLE_BYTES) + 1))
            where = f"{file}:{clean(member.filename)}"
            imports, end = scan_stream(
                data, where, tensors=records if member.filename.endswith("data.pkl") else None
            )
            if end != len(data.getvalue()):
                raise _reject(where, f"{len(data.getvalue()) - end} bytes follow the pickle's STOP")
            found |= imports
    except ValidationFailed:
        raise
    except Exception as exc:  # BadZipFile, CRC errors, unsupported compression …
        raise _reject(file, f"not a readable zip checkpoint ({type(exc).__name__})") from None
    return PickleScan(len(members), frozenset(found), tuple(records))


def _scan_legacy(stream: BinaryIO, file_size: int, file: str) -> PickleScan:
    records: list[TensorRecord] = []
    found, end = scan_stream(stream, file, tensors=records)
    streams = 1
    if _is_legacy_magic(stream, end):
        records.clear()  # the magic number holds no tensors; the third pickle after it does
        for index in range(4):  # protocol, sys info, the object, storage keys
            stream.seek(end)
            imports, end = scan_stream(stream, file, tensors=records if index == 2 else None)
            found |= imports
            streams += 1
    elif end != file_size:
        raise _reject(file, f"{file_size - end} bytes follow the pickle's STOP")
    return PickleScan(streams, frozenset(found), tuple(records))


def _is_legacy_magic(stream: BinaryIO, end: int) -> bool:
    """Whether the first pickle (ending at ``end``) is torch's legacy magic number."""
    stream.seek(0)
    raw = stream.read(min(end, 64))
    try:
        ops = [(op.name, arg) for op, arg, _ in pickletools.genops(io.BytesIO(raw))]
    except Exception:
        return False
    return any(name in ("LONG1", "LONG", "LONG4") and arg == LEGACY_MAGIC for name, arg in ops)
