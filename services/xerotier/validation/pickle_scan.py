"""Scan pickles for imports without ever unpickling (pure).

Walks the opcode stream with ``pickle_ops.OpReader`` (which follows the unpickler's own framing and
executes nothing) and simulates the stack just enough to resolve every import: ``GLOBAL``/``INST``
carry the name inline, ``STACK_GLOBAL`` takes it from the stack (strings pushed directly or fetched
back from the memo). Anything outside ``ALLOWED_GLOBALS`` is rejected, naming the module and the
name (default deny, reliability.md §7.1: denylists get bypassed), and so is an import whose name is
computed, a copyreg extension code, or any parse error (fail closed).

``scan_checkpoint`` reads a file that must be a PyTorch checkpoint: a zip (modern ``torch.save``,
members chosen as torch's reader does, ``zip_layout``), torch's legacy raw format (five pickles back
to back: magic number, protocol, sys info, the object, storage keys; then raw storage bytes), or a
plain pickle. torch's legacy *tar* format is refused. ``file_scan`` sniffs every other file.
"""

from __future__ import annotations

import io
import math
import pickletools
import tarfile
from dataclasses import dataclass
from typing import BinaryIO

from xerotier.checkpoint.text import clean
from xerotier.errors import ValidationFailed
from xerotier.validation import npy_check, zip_layout
from xerotier.validation.pickle_ops import HIGHEST_PROTOCOL, MAX_OPS, Op, OpReader, Truncated

MAX_PICKLE_BYTES = 256 * 1024 * 1024  # one pickle stream (the tensors live outside it)
MAX_SNIFF_OPS = 5_000_000  # a file of another name that reads as opcodes this long is refused
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
_TORCH_TENSORS = ["Long", "Float", "Half", "Double", "BFloat16", "Bool", "Char", "Short", "Int", "Byte"]
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
    "uint16",
    "uint32",
    "uint64",
    *(f"int{bits}" for bits in range(1, 8)),
    *(f"uint{bits}" for bits in range(1, 8)),
    "bool",
    "complex32",
    "complex64",
    "complex128",
    "float8_e4m3fn",
    "float8_e5m2",
    "float8_e4m3fnuz",
    "float8_e5m2fnuz",
    "float8_e8m0fnu",
    "float4_e2m1fn_x2",
    "qint8",
    "qint32",
    "quint8",
    "quint4x2",
    "quint2x4",
    "bits1x8",
    "bits2x4",
    "bits4x2",
    "bits8",
    "bits16",
]
_TORCH_QSCHEMES = [
    "per_tensor_affine",
    "per_channel_affine",
    "per_channel_affine_float_qparams",
    "per_tensor_symmetric",
    "per_channel_symmetric",
]
_REBUILD = [
    "_rebuild_tensor",
    "_rebuild_tensor_v2",
    "_rebuild_tensor_v3",
    "_rebuild_parameter",
    "_rebuild_parameter_with_state",
    "_rebuild_qtensor",
    "_rebuild_sparse_tensor",
    "_rebuild_nested_tensor",
    "_rebuild_meta_tensor_no_storage",
    "_rebuild_wrapper_subclass",
    "_rebuild_device_tensor_from_numpy",
    "_rebuild_device_tensor_from_cpu_tensor",
]
#: What torch checkpoints legitimately import: picklescan ``_safe_globals`` and torch 2.13's
#: ``_weights_only_unpickler`` allowlist (reliability.md §7.1, §7.2); builtins under both names
#: (protocol 2 writes ``__builtin__``).
ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    [
        ("collections", "OrderedDict"),
        ("collections", "Counter"),
        *(("torch._utils", name) for name in _REBUILD),
        ("torch._tensor", "_rebuild_from_type_v2"),
        ("torch.serialization", "_get_layout"),
        ("torch.nn.parameter", "Parameter"),
        ("torch", "Size"),
        ("torch", "Tensor"),
        ("torch", "device"),
        ("torch", "UntypedStorage"),
        ("torch.storage", "UntypedStorage"),
        ("torch.storage", "TypedStorage"),
        *(("torch", scheme) for scheme in _TORCH_QSCHEMES),
        ("_codecs", "encode"),  # protocol-2 pickles encode bytes this way
        *((mod, name) for mod in ("builtins", "__builtin__") for name in ("set", "bytearray", "complex")),
        ("numpy", "dtype"),
        ("numpy", "ndarray"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        *((module, f"{kind}Storage") for module in ("torch", "torch.cuda") for kind in _TORCH_STORAGES),
        *((module, f"{kind}Tensor") for module in ("torch", "torch.cuda") for kind in _TORCH_TENSORS),
        *(
            (module, f"{kind}Tensor")
            for module in ("torch.sparse", "torch.cuda.sparse")
            for kind in _TORCH_TENSORS
            if kind != "Bool"
        ),
        *(("torch", dtype) for dtype in _TORCH_DTYPES),
    ]
)
FLOAT_STORAGES = frozenset({"HalfStorage", "FloatStorage", "BFloat16Storage", "DoubleStorage"})
FLOAT_DTYPES = frozenset(
    {"float16", "float32", "float64", "bfloat16", "half", "float", "double"}
    | {name for name in _TORCH_DTYPES if name.startswith("float8") or name.startswith("float4")}
)
_REBUILDERS = frozenset(
    {
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch._utils", "_rebuild_tensor"),
        ("torch._utils", "_rebuild_tensor_v3"),
    }
)
_INT_OPS = frozenset({"INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4"})
_TUPLE_SIZES = {"EMPTY_TUPLE": 0, "TUPLE1": 1, "TUPLE2": 2, "TUPLE3": 3}
_STRING_OPS = frozenset(
    {"STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8"}
)
_MEMO_PUT = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_MEMO_GET = frozenset({"GET", "BINGET", "LONG_BINGET"})


class _Mark:
    pass


class _Unimportable(Exception):
    """Sniff mode: an import every unpickler fails on (not a dotted identifier): it stops there."""


class _Malformed(Exception):
    """The simulated stack cannot follow (strict: refuse; sniff: forget the stack, keep walking)."""


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
    """One ``_rebuild_tensor_v2/v3(storage, offset, size, …)`` call: enough to count parameters."""

    storage_type: str  # e.g. "HalfStorage", or the dtype of an untyped storage ("float16")
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
        return sum(
            math.prod(t.shape)
            for t in unique.values()
            if t.storage_type in FLOAT_STORAGES or t.storage_type in FLOAT_DTYPES
        )


NOT_A_PICKLE = PickleScan(0, frozenset())


def _reject(file: str, rule: str) -> ValidationFailed:
    return ValidationFailed(f"{file}: {rule}")


class _Simulator:
    """The stack and memo of one pickle, as far as imports and tensor rebuilds need them."""

    def __init__(self, file: str, strict: bool, records: list[TensorRecord]) -> None:
        self.file = file
        self.strict = strict
        self.records = records
        self.found: set[tuple[str, str]] = set()
        self.stack: list[object] = []
        self.memo: dict[object, object] = {}

    def step(self, op: Op) -> None:
        try:
            self._step(op)
        except _Malformed as exc:
            if self.strict:
                raise _reject(self.file, f"malformed pickle: {exc}") from None
            # sniff: the simulated stack has exactly the unpickler's depth (every opcode read is
            # simulated), so an underflow here is the unpickler's own "stack underflow": it stops
            raise _Unimportable from None

    def _step(self, op: Op) -> None:
        name, arg, stack = op.name, op.arg, self.stack
        if name in ("GLOBAL", "INST"):
            module, attr = arg if isinstance(arg, tuple) else ("?", "?")
            self._check_global(str(module), str(attr))
            if name == "GLOBAL":
                stack.append(_Ref(str(module), str(attr)))
                return
        elif name == "STACK_GLOBAL":
            if len(stack) < 2:
                if not self.strict:
                    raise _Malformed("STACK_GLOBAL on a short stack")
                raise _reject(self.file, "pickle imports a global its stack cannot name (STACK_GLOBAL)")
            attr, module = stack.pop(), stack.pop()
            if not self.strict and (_surely_not_str(module) or _surely_not_str(attr)):
                raise _Unimportable  # "STACK_GLOBAL requires str": the unpickler stops here
            if not isinstance(module, str) or not isinstance(attr, str):
                raise _reject(
                    self.file, "pickle imports a global whose name is computed at load time (STACK_GLOBAL)"
                )
            self._check_global(module, attr)
            stack.append(_Ref(module, attr))
            return
        elif name in ("EXT1", "EXT2", "EXT4"):
            if not self.strict:  # copyreg's registry is empty unless a program fills it: a stop
                raise _Unimportable
            raise _reject(
                self.file, f"pickle uses a copyreg extension code ({name}), which can import anything"
            )
        if name in _MEMO_PUT or name == "MEMOIZE":
            if not stack:
                raise _Malformed("memo store on an empty stack")
            self.memo[len(self.memo) if name == "MEMOIZE" else arg] = stack[-1]
            return
        if name in _MEMO_GET:
            stack.append(self.memo.get(arg, _UNKNOWN))
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
            stack.append(self._pop_tuple(_TUPLE_SIZES.get(name)))
            return
        if name == "BINPERSID" and stack:
            stack.append(_Persisted(stack.pop()))
            return
        if name == "REDUCE" and len(stack) >= 2:
            args, func = stack.pop(), stack.pop()
            _record_tensor(func, args, self.records)
            stack.append(_UNKNOWN)
            return
        info = _OPS[name]
        before = info.stack_before
        if _MARKOBJ in before:
            self._pop_to_mark()
            count = before.index(_MARKOBJ)
        else:
            count = len(before)
        if count > len(stack):
            raise _Malformed(f"{name} pops more than the stack holds")
        if count:
            del stack[-count:]
        for item in info.stack_after:
            stack.append(_MARK if item is _MARKOBJ else _UNKNOWN)

    def _pop_to_mark(self) -> None:
        while self.stack:
            if self.stack.pop() is _MARK:
                return
        raise _Malformed("MARK missing")

    def _pop_tuple(self, size: int | None) -> tuple:
        stack = self.stack
        if size is None:  # TUPLE: everything down to the mark
            items: list[object] = []
            while stack:
                item = stack.pop()
                if item is _MARK:
                    return tuple(reversed(items))
                items.append(item)
            raise _Malformed("MARK missing")
        if size > len(stack):
            raise _Malformed("TUPLE pops more than the stack holds")
        items = stack[len(stack) - size :]
        del stack[len(stack) - size :]
        return tuple(items)

    def _check_global(self, module: str, attr: str) -> None:
        if not self.strict and not (_dotted(module) and _dotted(attr)):
            raise _Unimportable  # find_class raises: nothing after this opcode runs
        self.found.add((module, attr))
        if (module, attr) not in ALLOWED_GLOBALS:
            raise _reject(
                self.file,
                f"pickle imports {clean(module, 100)}.{clean(attr, 100)}, "
                "which is not allowed in a checkpoint",
            )


def _surely_not_str(value: object) -> bool:
    return value is _MARK or isinstance(value, int | tuple | _Ref | _Persisted)


def _dotted(name: str) -> bool:
    return bool(name) and all(part.isidentifier() for part in name.split("."))


_OPS = {op.name: op for op in pickletools.opcodes}
_MARKOBJ = pickletools.markobject


def _record_tensor(func: object, args: object, records: list[TensorRecord]) -> None:
    """Note a tensor rebuild: its storage (from the persistent id), offset, shape (and v3's dtype)."""
    if not isinstance(func, _Ref) or (func.module, func.name) not in _REBUILDERS:
        return
    if not isinstance(args, tuple) or len(args) < 3 or not isinstance(args[0], _Persisted):
        return
    pid, offset, shape = args[0].pid, args[1], args[2]
    if not (isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage" and isinstance(pid[1], _Ref)):
        return
    kind = pid[1].name
    if func.name == "_rebuild_tensor_v3" and len(args) >= 7 and isinstance(args[6], _Ref):
        kind = args[6].name  # an untyped storage: the dtype is an argument
    if type(offset) is int and isinstance(shape, tuple) and all(type(d) is int and d >= 0 for d in shape):
        records.append(TensorRecord(kind, str(pid[2]), offset, shape))


def scan_stream(
    data: BinaryIO,
    file: str,
    limit: int = MAX_PICKLE_BYTES,
    tensors: list[TensorRecord] | None = None,
    size: int | None = None,
    start: int | None = None,
) -> tuple[set[tuple[str, str]], int]:
    """Scan one pickle (strict) starting at the stream's position; return its imports and its end.

    Tensor rebuild calls are appended to ``tensors`` when given. ``size`` is the readable length of
    ``data`` (default: up to ``limit`` bytes from the start).
    """
    begin = data.tell() if start is None else start
    bound = begin + limit if size is None else min(size, begin + limit)
    reader = OpReader(data, bound, file, strict=True, start=begin)
    sim = _Simulator(file, strict=True, records=tensors if tensors is not None else [])
    ops = 0
    try:
        while True:
            op = reader.next()
            if op is None:
                raise _reject(file, f"not a readable pickle stream (unknown opcode at byte {reader.pos})")
            ops += 1
            if ops > MAX_OPS:
                raise _reject(file, f"pickle stream has more than {MAX_OPS} opcodes")
            _check_protocol(op, file, strict=True)
            sim.step(op)
            if op.name == "STOP":
                _check_stop_closes_frame(reader, op, file)
                return sim.found, op.end
    except Truncated:
        if size is not None and reader.pos >= bound and bound < size:
            raise _reject(file, f"pickle stream is larger than the {limit}-byte cap") from None
        raise _reject(file, "not a readable pickle stream (it ends without STOP)") from None


def sniff_stream(data: BinaryIO, size: int, file: str) -> tuple[set[tuple[str, str]], list[int], int]:
    """Walk every pickle an unpickler could read from the start of ``data`` (sniff mode).

    Returns the imports reached (all allowed, or ``ValidationFailed``), the end of each complete
    pickle and where the walk stopped. Stops where every unpickler stops: an unknown opcode, the
    end of the data, an unsupported protocol.
    """
    reader = OpReader(data, size, file, strict=False)
    sim = _Simulator(file, strict=False, records=[])
    ends: list[int] = []
    ops = 0
    try:
        while True:
            op = reader.next()
            if op is None:
                break
            ops += 1
            if ops > MAX_SNIFF_OPS:
                raise _reject(file, f"pickle-like content runs past {MAX_SNIFF_OPS} opcodes: not checkable")
            if not _check_protocol(op, file, strict=False):
                break
            sim.step(op)
            if op.name == "STOP":
                _check_stop_closes_frame(reader, op, file)
                ends.append(op.end)
                sim.stack.clear()  # a loader may call load() again: the next pickle starts here
                sim.memo.clear()
    except (Truncated, _Unimportable):
        pass
    return sim.found, ends, reader.pos


def _check_protocol(op: Op, file: str, strict: bool) -> bool:
    if op.name != "PROTO" or (isinstance(op.arg, int) and op.arg <= HIGHEST_PROTOCOL):
        return True
    if strict:
        raise _reject(file, f"pickle protocol {op.arg} is not supported")
    return False  # every unpickler refuses it: nothing after it runs


def _check_stop_closes_frame(reader: OpReader, op: Op, file: str) -> None:
    if reader.frame_end is not None and reader.frame_end != op.end:
        raise _reject(
            file,
            f"pickle STOP at byte {op.pos} is not the end of its frame "
            f"({reader.frame_end - op.end} bytes follow it inside the frame)",
        )


def is_tar(head: bytes) -> bool:
    """Whether the first 512 bytes are a tar header ``tarfile`` accepts (torch tries tar first)."""
    if len(head) < 512:
        return False
    try:
        tarfile.TarInfo.frombuf(head[:512], "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        return False
    except Exception:
        return True  # tarfile choked on a header whose checksum matched: treat it as a tar
    return True


def scan_checkpoint(stream: BinaryIO, file_size: int, file: str) -> PickleScan:
    """Scan a PyTorch checkpoint (zip container or legacy raw pickles) read from ``stream``."""
    head = stream.read(512)
    stream.seek(0)
    if head[:4] == GGUF_MAGIC:
        raise _reject(file, "GGUF files are not a supported format (upload safetensors, bin or exl2)")
    if head[:4] == ZIP_MAGIC:
        return scan_zip(stream, file_size, file, require_data_pkl=True)
    if is_tar(head):
        raise _reject(
            file,
            "is a tar archive: torch's legacy tar checkpoint format is not accepted "
            "(re-save it with torch.save, or convert it to safetensors)",
        )
    return scan_legacy(stream, file_size, file)


def scan_zip(stream: BinaryIO, file_size: int, file: str, require_data_pkl: bool) -> PickleScan:
    """A zip as torch's reader and numpy's see it: every ``.pkl`` member, every ``.npy`` array."""
    view = zip_layout.read_members(stream, file_size, file)
    torch_pickle = zip_layout.torch_data_pkl(view)
    if require_data_pkl and torch_pickle is None:
        raise _reject(file, "zip checkpoint holds no data.pkl")
    found: set[tuple[str, str]] = set()
    records: list[TensorRecord] = []
    streams = 0
    for member in view.members:
        where = f"{file}:{clean(member.name)}"
        if member.folded.endswith(".pkl"):
            raw = zip_layout.read_member(view, member, MAX_PICKLE_BYTES, file)
            imports, end = scan_stream(
                io.BytesIO(raw), where, tensors=records if member is torch_pickle else None, size=len(raw)
            )
            if end != len(raw):
                raise _reject(where, f"{len(raw) - end} bytes follow the pickle's STOP")
            found |= imports
            streams += 1
        elif zip_layout.member_head(view, member, len(npy_check.NPY_MAGIC), file) == npy_check.NPY_MAGIC:
            head = zip_layout.member_head(view, member, npy_check.MAX_HEADER_READ, file)
            npy_check.check_npy_header(head, where)
    if zip_layout.is_torchscript(view):
        raise _reject(file, "is a TorchScript archive, which runs code when loaded: upload a state dict")
    return PickleScan(streams, frozenset(found), tuple(records))


def scan_legacy(stream: BinaryIO, file_size: int, file: str) -> PickleScan:
    """torch's legacy raw format (five pickles, then raw storages) or one plain pickle."""
    records: list[TensorRecord] = []
    found, end = scan_stream(stream, file, tensors=records, size=file_size, start=0)
    streams = 1
    if is_legacy_magic(stream, end):
        records.clear()  # the magic number holds no tensors; the third pickle after it does
        for index in range(4):  # protocol, sys info, the object, storage keys
            stream.seek(end)
            imports, end = scan_stream(
                stream, file, tensors=records if index == 2 else None, size=file_size, start=end
            )
            found |= imports
            streams += 1
    elif end != file_size:
        raise _reject(file, f"{file_size - end} bytes follow the pickle's STOP")
    return PickleScan(streams, frozenset(found), tuple(records))


def is_legacy_magic(stream: BinaryIO, end: int) -> bool:
    """Whether the first pickle (ending at ``end``) is torch's legacy magic number."""
    stream.seek(0)
    raw = stream.read(min(end, 64))
    reader = OpReader(io.BytesIO(raw), len(raw), "", strict=False)
    try:
        while (op := reader.next()) is not None:
            if op.name in ("LONG1", "LONG", "LONG4") and op.arg == LEGACY_MAGIC:
                return True
            if op.name == "STOP":
                return False
    except (Truncated, ValidationFailed):
        return False
    return False
