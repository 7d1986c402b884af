"""Pickle byte streams built by hand from opcodes (nothing here is ever unpickled).

``torch_state_dict`` writes what ``torch.save`` puts in ``data.pkl`` for a state dict; the
``payload_*`` builders write the attacks of reliability.md §7.1.
"""

from __future__ import annotations

import io
import pickle
import pickletools
import struct
import zipfile

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def _str(value: str) -> bytes:
    raw = value.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw  # BINUNICODE


def _int(value: int) -> bytes:
    return b"J" + struct.pack("<i", value)  # BININT


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _tuple(*items: bytes) -> bytes:
    return b"(" + b"".join(items) + b"t"


def tensor_reduce(key: str, shape: tuple[int, ...], storage: str = "HalfStorage") -> bytes:
    """``torch._utils._rebuild_tensor_v2(persistent storage, 0, shape, stride, False, OrderedDict())``."""
    numel = 1
    for dim in shape:
        numel *= dim
    stride, acc = [], 1
    for dim in reversed(shape):
        stride.insert(0, acc)
        acc *= dim
    persistent = _tuple(_str("storage"), _global("torch", storage), _str(key), _str("cpu"), _int(numel))
    args = _tuple(
        persistent + b"Q",  # BINPERSID
        _int(0),
        _tuple(*(_int(d) for d in shape)),
        _tuple(*(_int(s) for s in stride)),
        b"\x89",  # NEWFALSE
        _global("collections", "OrderedDict") + b")R",
    )
    return _global("torch._utils", "_rebuild_tensor_v2") + args + b"R"


def torch_state_dict(
    tensors: dict[str, tuple[int, ...]],
    extra_value: bytes | None = None,
    storages: dict[str, tuple[str, str]] | None = None,
) -> bytes:
    """A protocol-2 pickle of an OrderedDict of tensors, as torch writes it (optionally one more value).

    ``storages`` maps a tensor name to (storage key, storage type), e.g. to tie two tensors.
    """
    body = b"\x80\x02" + _global("collections", "OrderedDict") + b")R("
    for index, (name, shape) in enumerate(tensors.items()):
        key, storage = (storages or {}).get(name, (str(index), "HalfStorage"))
        body += _str(name) + tensor_reduce(key, shape, storage)
    if extra_value is not None:
        body += _str("extra") + extra_value
    body += b"u."
    pickletools.dis(body, out=io.StringIO())  # fails if the stream is not well formed
    return body


def call(module: str, name: str, *args: str) -> bytes:
    """``module.name(*args)`` with GLOBAL + REDUCE."""
    return _global(module, name) + _tuple(*(_str(a) for a in args)) + b"R"


def payload(module: str, name: str, *args: str) -> bytes:
    """A whole protocol-2 pickle that calls ``module.name(*args)`` when loaded."""
    return b"\x80\x02" + call(module, name, *args) + b"."


def payload_stack_global_memo(module: str, name: str, *args: str) -> bytes:
    """Protocol 4, import through STACK_GLOBAL of strings memoized, popped and fetched back."""

    def short(value: str) -> bytes:
        raw = value.encode()
        return b"\x8c" + bytes([len(raw)]) + raw  # SHORT_BINUNICODE

    body = b"\x80\x04" + short("harmless") + b"\x94" + short(module) + b"\x94" + short(name) + b"\x94"
    body += b"000"  # POP ×3: nothing on the stack looks like an import any more
    body += b"h\x01h\x02\x93"  # BINGET 1, BINGET 2, STACK_GLOBAL
    body += _tuple(*(_str(a) for a in args)) + b"R."
    pickletools.dis(body, out=io.StringIO())
    return body


def payload_computed_stack_global() -> bytes:
    """STACK_GLOBAL whose module name is the result of a call (cannot be resolved statically)."""
    body = b"\x80\x04" + call("_codecs", "encode", "os", "ascii") + _str("system") + b"\x93"
    body += _tuple(_str("id")) + b"R."
    return body


def payload_protocol0(module: str, name: str, arg: str) -> bytes:
    """A text (protocol 0) pickle without the 0x80 magic — what CVE-2025-10155 hid in a .bin."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n(S'" + arg.encode() + b"'\ntR."


def payload_inst(module: str, name: str, arg: str) -> bytes:
    """The protocol-0 INST opcode: import and call in one."""
    return b"(S'" + arg.encode() + b"'\ni" + module.encode() + b"\n" + name.encode() + b"\n."


def zip_checkpoint(data_pkl: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    """A ``torch.save`` zip archive: ``archive/data.pkl``, version, storages under ``archive/data/``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", data_pkl)
        archive.writestr("archive/version", b"3\n")
        archive.writestr("archive/data/0", b"\0" * 16)
        for name, raw in (extra or {}).items():
            archive.writestr(name, raw)
    return out.getvalue()


def legacy_checkpoint(data_pkl: bytes) -> bytes:
    """torch's legacy format: magic, protocol, sys info, the object, storage keys, raw storages."""
    parts = [
        pickle.dumps(LEGACY_MAGIC, protocol=2),
        pickle.dumps(1001, protocol=2),
        pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2),
        data_pkl,
        pickle.dumps(["0"], protocol=2),
        struct.pack("<q", 8) + b"\0" * 16,
    ]
    return b"".join(parts)
