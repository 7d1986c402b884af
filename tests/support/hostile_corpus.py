"""The hostile-file corpus: published pickle-scanner bypass classes and legitimate torch/numpy files.

Generated, never committed as binaries: ``build(folder)`` writes every case and returns them, each
with the verdict the registry must reach. A hostile case's payload runs ``touch <folder>/ran-<id>``
when a real loader opens it, so the loader harness (``tests/support/open_with_loaders.py``) proves
both that every hostile case is live and that nothing the registry accepts runs anything.

Needs torch, numpy (and joblib for the compressed cases); run ``python -m support.hostile_corpus
DIR`` from ``tests/`` to look at the files.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import pickle
import struct
import sys
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

ACCEPT = "accept"
REFUSE = "refuse"
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


@dataclass(frozen=True)
class Case:
    id: str
    path: str  # the file name inside the model (what the registry sees)
    verdict: str  # ACCEPT or REFUSE
    why: str  # the bypass class or the legitimate case
    #: hostile: the loaders that run its payload (proves it is live); empty where the structure is
    #: refused before any content (concatenated or prepended zips: which archive a reader sees
    #: depends on the reader and its version, so the registry refuses the ambiguity itself)
    loaders: tuple[str, ...] = ()
    refusal: str = ""  # hostile: a fragment of the refusal message


class _Run:
    """Pickles to ``os.system(command)`` (pickling it runs nothing)."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (self.command,))


def _cmd(folder: Path, case_id: str) -> str:
    return f"touch {folder / ('ran-' + case_id)}"


def _proto0(command: str) -> bytes:
    return b"cos\nsystem\n(S'" + command.encode() + b"'\ntR."


def _proto1(command: str) -> bytes:
    return pickle.dumps(_Run(command), protocol=1)


def _torch_zip(
    data_pkl: bytes, members: dict[str, bytes] | None = None, name: str = "archive/data.pkl"
) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(name, data_pkl)
        archive.writestr("archive/version", b"3\n")
        for member, raw in (members or {}).items():
            archive.writestr(member, raw)
    return out.getvalue()


def _legacy(obj_pickle: bytes, protocol: int = 2) -> bytes:
    return b"".join(
        [
            pickle.dumps(LEGACY_MAGIC, protocol=protocol),
            pickle.dumps(1001, protocol=protocol),
            pickle.dumps(
                {"protocol_version": 1001, "little_endian": True, "type_sizes": {}}, protocol=protocol
            ),
            obj_pickle,
            pickle.dumps([], protocol=protocol),
        ]
    )


def _big_frame_legacy(command: str) -> bytes:
    """A legacy checkpoint whose magic pickle sits in a frame of 16 KiB that goes on after STOP.

    CPython's unpickler resumes at the frame's end (where the payload is); a scanner that resumes
    after STOP reads the decoy pickles that fill the rest of the frame.
    """
    decoy = pickle.dumps(LEGACY_MAGIC, protocol=2)
    magic = b"\x8a\x0a" + LEGACY_MAGIC.to_bytes(10, "little") + b"."
    filler = (
        pickle.dumps(1001, protocol=2)
        + pickle.dumps({"protocol_version": 1001}, protocol=2)
        + pickle.dumps({}, protocol=2)
        + pickle.dumps([], protocol=2)
    )
    body = magic + filler
    body += b"N." * ((16 * 1024 - len(body)) // 2)
    del decoy
    framed = b"\x80\x04\x95" + struct.pack("<Q", len(body)) + body
    payload = pickle.dumps(_Run(command), protocol=2)
    rest = pickle.dumps(1001, protocol=2) + pickle.dumps({"protocol_version": 1001}, protocol=2)
    return framed + rest + payload + pickle.dumps([], protocol=2)


def _legacy_tar(command: str) -> bytes:
    """torch's pre-0.4 tar format: ``storages`` is unpickled first."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, raw in (
            ("storages", pickle.dumps(_Run(command), protocol=2)),
            ("tensors", pickle.dumps(0, protocol=2)),
            ("pickle", pickle.dumps({}, protocol=2)),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return out.getvalue()


def _zip_raw(entries: list[tuple[str, bytes]]) -> bytes:
    """A zip written member by member, duplicates allowed (zipfile warns, writes both)."""
    out = io.BytesIO()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
            for name, raw in entries:
                archive.writestr(name, raw)
    return out.getvalue()


def _torch_save(obj: object, **kwargs: object) -> bytes:
    import torch

    out = io.BytesIO()
    torch.save(obj, out, **kwargs)  # type: ignore[arg-type]
    return out.getvalue()


def _npy(array: object) -> bytes:
    import numpy as np

    out = io.BytesIO()
    np.save(out, array, allow_pickle=True)
    return out.getvalue()


def _npz(compressed: bool = False, **arrays: object) -> bytes:
    import numpy as np

    out = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(out, **arrays)  # type: ignore[operator]
    return out.getvalue()


def _hostile(folder: Path) -> list[tuple[Case, bytes]]:
    import numpy as np

    cases: list[tuple[Case, bytes]] = []

    def add(case_id: str, path: str, blob: bytes, why: str, loaders: tuple[str, ...], refusal: str) -> None:
        cases.append((Case(case_id, path, REFUSE, why, loaders, refusal), blob))

    def cmd(case_id: str) -> str:
        return _cmd(folder, case_id)

    add(
        "raw-p2",
        "pytorch_model.bin",
        pickle.dumps(_Run(cmd("raw-p2")), protocol=2),
        "plain pickle",
        ("torch", "pickle"),
        "imports posix.system",
    )
    add(
        "raw-p4-pkl",
        "extra/state.pkl",
        pickle.dumps(_Run(cmd("raw-p4-pkl")), protocol=4),
        "protocol 4 framed",
        ("pickle",),
        "imports posix.system",
    )
    add(
        "big-frame-legacy",
        "model.ckpt",
        _big_frame_legacy(cmd("big-frame-legacy")),
        "legacy format, FRAME >= 8 KiB going on after STOP",
        ("torch",),
        "is not the end of its frame",
    )
    add(
        "legacy-tar",
        "pytorch_model.bin",
        _legacy_tar(cmd("legacy-tar")),
        "legacy tar format",
        ("torch",),
        "tar archive",
    )
    add(
        "legacy-tar-other-name",
        "weights.data",
        _legacy_tar(cmd("legacy-tar-other-name")),
        "legacy tar format under another name",
        ("torch",),
        "tar archive",
    )
    add(
        "zip-upper-pkl",
        "pytorch_model.bin",
        _torch_zip(
            pickle.dumps(_Run(cmd("zip-upper-pkl")), protocol=2),
            {"archive/decoy.pkl": pickle.dumps({})},
            name="archive/data.PKL",
        ),
        "data.PKL (torch's lookup ignores case) + benign decoy.pkl",
        ("torch",),
        "imports posix.system",
    )
    benign = _torch_save({"w": __import__("torch").zeros(2)})
    hostile_zip = _torch_save(_Run(cmd("zip-concat")))
    add(
        "zip-concat",
        "pytorch_model.bin",
        benign + hostile_zip,
        "two zips concatenated",
        (),
        "another reader would see another archive",
    )
    add(
        "zip-concat-reverse",
        "pytorch_model.bin",
        _torch_save(_Run(cmd("zip-concat-reverse"))) + benign,
        "two zips concatenated, payload first",
        (),
        "another reader would see another archive",
    )
    add(
        "zip-duplicate",
        "pytorch_model.bin",
        _zip_raw(
            [
                ("archive/data.pkl", pickle.dumps({})),
                ("archive/version", b"3\n"),
                ("archive/data.pkl", pickle.dumps(_Run(cmd("zip-duplicate")), protocol=2)),
            ]
        ),
        "duplicate member names",
        ("torch",),
        "twice",
    )
    add(
        "zip-case-twins",
        "pytorch_model.bin",
        _zip_raw(
            [
                ("archive/data.pkl", pickle.dumps({})),
                ("archive/version", b"3\n"),
                ("archive/DATA.PKL", pickle.dumps(_Run(cmd("zip-case-twins")), protocol=2)),
            ]
        ),
        "case-colliding member names",
        ("torch",),
        "differ only in case",
    )
    add(
        "zip-prepended",
        "pytorch_model.bin",
        b"\0" * 64 + _torch_save(_Run(cmd("zip-prepended"))),
        "bytes before the zip",
        (),
        "",
    )
    add(
        "proto0-bin",
        "pytorch_model.bin",
        _proto0(cmd("proto0-bin")),
        "protocol 0 without \\x80 (CVE-2025-10155)",
        ("torch", "pickle"),
        "imports os.system",
    )
    add(
        "proto0-model",
        "tokenizer.model",
        _proto0(cmd("proto0-model")),
        "protocol 0 named .model",
        ("pickle", "numpy"),
        "imports os.system",
    )
    add(
        "proto0-nosuffix",
        "weights",
        _proto0(cmd("proto0-nosuffix")),
        "protocol 0, no suffix",
        ("pickle", "numpy", "torch"),
        "imports os.system",
    )
    add(
        "proto0-txt",
        "notes.txt",
        _proto0(cmd("proto0-txt")),
        "protocol 0 text named .txt",
        ("pickle",),
        "imports os.system",
    )
    add(
        "proto0-json",
        "special_tokens_map.json",
        _proto0(cmd("proto0-json")),
        "protocol 0 named .json",
        ("pickle",),
        "imports os.system",
    )
    add(
        "proto1-model",
        "spiece.model",
        _proto1(cmd("proto1-model")),
        "protocol 1 named .model",
        ("pickle", "numpy"),
        "imports posix.system",
    )
    add(
        "proto1-header",
        "model.bin.1",
        b"\x80\x01" + _proto1(cmd("proto1-header")),
        "\\x80\\x01 header",
        ("pickle",),
        "imports posix.system",
    )
    add(
        "joblib-like",
        "model.joblib",
        pickle.dumps(_Run(cmd("joblib-like")), protocol=4),
        ".joblib pickle",
        ("pickle", "joblib"),
        "imports posix.system",
    )
    add(
        "joblib-gzip",
        "clf.joblib",
        gzip.compress(pickle.dumps(_Run(cmd("joblib-gzip")))),
        "gzip for joblib",
        ("joblib",),
        "imports posix.system",
    )
    add(
        "joblib-zlib",
        "clf.z",
        zlib.compress(pickle.dumps(_Run(cmd("joblib-zlib")))),
        "zlib for joblib",
        ("joblib",),
        "imports posix.system",
    )
    add(
        "joblib-xz",
        "clf.xz",
        lzma.compress(pickle.dumps(_Run(cmd("joblib-xz")))),
        "xz for joblib",
        ("joblib",),
        "imports posix.system",
    )
    add(
        "joblib-bz2",
        "clf.bz2",
        bz2.compress(pickle.dumps(_Run(cmd("joblib-bz2")))),
        "bz2 for joblib",
        ("joblib",),
        "imports posix.system",
    )
    add(
        "legacy-object",
        "pytorch_model.pt",
        _legacy(pickle.dumps(_Run(cmd("legacy-object")), protocol=2)),
        "legacy format, payload as the object",
        ("torch",),
        "imports posix.system",
    )
    add(
        "npy-object",
        "embeddings.npy",
        _npy(np.array([_Run(cmd("npy-object"))], dtype=object)),
        ".npy object array",
        ("numpy",),
        "holds Python objects",
    )
    add(
        "npz-object",
        "arrays.npz",
        _npz(a=np.zeros(2), b=np.array([_Run(cmd("npz-object"))], dtype=object)),
        ".npz with an object array",
        ("numpy",),
        "holds Python objects",
    )
    add(
        "inst",
        "pytorch_model.bin",
        b"(S'" + cmd("inst").encode() + b"'\nios\nsystem\n.",
        "INST opcode",
        ("pickle",),
        "imports os.system",
    )
    add(
        "stack-global-memo",
        "pytorch_model.bin",
        b"\x80\x04\x8c\x08harmless\x94\x8c\x02os\x94\x8c\x06system\x94000h\x01h\x02\x93("
        + b"X"
        + struct.pack("<I", len(cmd("stack-global-memo")))
        + cmd("stack-global-memo").encode()
        + b"tR.",
        "STACK_GLOBAL through the memo",
        ("pickle",),
        "imports os.system",
    )
    add(
        "hex-int-prefix",
        "vocab",
        b"I0x10\n" + _proto0(cmd("hex-int-prefix"))[:-1] + b"0.",
        "an INT genops cannot read but the unpickler can, then a payload",
        ("pickle",),
        "imports os.system",
    )
    garbage = (
        pickle.dumps(_Run(cmd("payload-then-garbage")), protocol=2)[:-1] + b"\xff\xfe not a pickle any more"
    )
    add(
        "payload-then-garbage",
        "model.pkl",
        garbage,
        "payload, then bytes genops cannot read (the unpickler has already run it)",
        ("pickle",),
        "imports posix.system",
    )
    crc = bytearray(_torch_save(_Run(cmd("zip-bad-crc"))))
    central = bytes(crc).index(b"PK\x01\x02")
    crc[central + 16] ^= 0xFF  # data.pkl's CRC in the central directory (torch writes descriptors)
    add(
        "zip-bad-crc",
        "pytorch_model.bin",
        bytes(crc),
        "zip whose CRC Python's zipfile rejects (torch's reader does not check it)",
        ("torch",),
        "unreadable zip member",
    )

    class _Call:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            import subprocess

            return (subprocess.call, (["touch", str(folder / "ran-subprocess")],))

    add(
        "subprocess",
        "optimizer.pt",
        pickle.dumps(_Call(), protocol=4),
        "subprocess.call, protocol 4",
        ("torch", "pickle"),
        "imports subprocess.call",
    )
    add(
        "ext-code",
        "pytorch_model.bin",
        b"\x80\x02\x82\x01)R.",
        "copyreg extension code",
        (),
        "copyreg extension code",
    )
    return cases


def _legitimate() -> list[tuple[Case, bytes]]:
    import numpy as np
    import torch

    def ok(case_id: str, path: str, blob: bytes, why: str) -> tuple[Case, bytes]:
        return Case(case_id, path, ACCEPT, why), blob

    sd = {"model.embed_tokens.weight": torch.randn(8, 4).half(), "lm_head.weight": torch.randn(8, 4).half()}
    big = {f"layer.{i}.weight": torch.randn(64, 64) for i in range(40)}
    return [
        ok("torch-fp16", "pytorch_model.bin", _torch_save(sd), "torch.save state dict"),
        ok(
            "torch-uint",
            "pytorch_model.bin",
            _torch_save(
                {
                    "a": torch.zeros(3, dtype=torch.uint16),
                    "b": torch.zeros(3, dtype=torch.uint32),
                    "c": torch.zeros(3, dtype=torch.uint64),
                }
            ),
            "uint16/uint32/uint64 tensors",
        ),
        ok(
            "torch-sparse",
            "pytorch_model.bin",
            _torch_save({"coo": torch.eye(3).to_sparse(), "csr": torch.eye(3).to_sparse_csr()}),
            "sparse COO and CSR",
        ),
        ok(
            "torch-misc",
            "model.pt",
            _torch_save(
                {
                    "p": torch.nn.Parameter(torch.zeros(2)),
                    "f8": torch.zeros(2, dtype=torch.float8_e4m3fn),
                    "bf": torch.zeros(2, dtype=torch.bfloat16),
                    "meta": [1, 2.0, "a", b"b", None, True, {1, 2}],
                    "size": torch.Size([1, 2]),
                    "dtype": torch.float16,
                }
            ),
            "parameters, float8, primitives",
        ),
        ok(
            "torch-p4",
            "pytorch_model.bin",
            _torch_save(big, pickle_protocol=4),
            "protocol 4 (framed) data.pkl",
        ),
        ok(
            "torch-legacy",
            "pytorch_model.bin",
            _torch_save(sd, _use_new_zipfile_serialization=False),
            "legacy raw format",
        ),
        ok(
            "torch-legacy-p4",
            "model.ckpt",
            _torch_save(big, _use_new_zipfile_serialization=False, pickle_protocol=4),
            "legacy format, framed pickles",
        ),
        ok("npy-f32", "embeddings.npy", _npy(np.arange(12, dtype=np.float32).reshape(3, 4)), "plain .npy"),
        ok(
            "npy-struct",
            "table.npy",
            _npy(np.zeros(2, dtype=[("a", "<i4"), ("b", "<f8", (2,))])),
            "structured .npy",
        ),
        ok("npz", "arrays.npz", _npz(a=np.zeros(3), b=np.arange(4)), "plain .npz"),
        ok("npz-compressed", "arrays2.npz", _npz(True, a=np.zeros(300)), "compressed .npz"),
        ok(
            "spm",
            "tokenizer.model",
            b"\n\x0e\n\x05<unk>\x15\x00\x00\x00\x00\x18\x02" + bytes(range(256)),
            "sentencepiece-like protobuf",
        ),
        ok("vocab", "vocab.txt", b"[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\n.\n(\nc\nos\n", "BERT vocab"),
        ok("merges", "merges.txt", b"#version: 0.2\n\xc4\xa0 t\nh e\n", "BPE merges"),
        ok("license", "LICENSE", b"MIT License\n\nCopyright (c) 2024\n", "a licence"),
        ok(
            "tokenizer-json",
            "tokenizer.json",
            b'{"version": "1.0", "model": {"vocab": {"a": 0}}}',
            "tokenizer",
        ),
        ok(
            "gitattributes",
            ".gitattributes",
            b"*.bin filter=lfs diff=lfs merge=lfs -text\n",
            "git attributes",
        ),
    ]


def build(folder: Path) -> list[Case]:
    """Write every case under ``folder/<id>/<path>``; return them."""
    folder.mkdir(parents=True, exist_ok=True)
    cases = []
    for case, blob in [*_hostile(folder), *_legitimate()]:
        target = folder / case.id / case.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob)
        cases.append(case)
    return cases


if __name__ == "__main__":
    for built in build(Path(sys.argv[1])):
        print(f"{built.verdict:7} {built.id:24} {built.path:28} {built.why}")
