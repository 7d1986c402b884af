"""Read a zip the one way every reader must agree on, or refuse it (pure, no extraction).

Python's ``zipfile`` and torch's reader (miniz) find the archive differently: ``zipfile`` corrects
offsets for bytes prepended to an archive, miniz does not, so two zips concatenated are two
different archives to them; miniz looks names up case-insensitively (``archive/data.PKL`` is the
``data.pkl`` torch loads) and picks one of two members with the same name. So a zip is accepted only
when there is no room for a second reading:

* the end-of-central-directory record is the file's last 22 bytes (no comment, nothing after it),
  and it (or its zip64 record) directly follows the central directory;
* the members' local records tile the file from byte 0 to the central directory, without gaps or
  overlaps, each local name equal to its central name;
* no two names are equal once ASCII-lowercased (as miniz compares them), no name holds a control
  character, no member is encrypted, and members are stored or deflated.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from xerotier.checkpoint.text import clean
from xerotier.errors import ValidationFailed

MAX_MEMBERS = 1_000_000
_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"
_DESCRIPTOR = b"PK\x07\x08"


@dataclass(frozen=True)
class Member:
    name: str
    folded: str  # ASCII-lowercased: how torch's reader compares names
    local_offset: int
    data_offset: int
    size: int  # compressed size
    file_size: int
    method: int
    info: zipfile.ZipInfo


@dataclass
class ZipView:
    archive: zipfile.ZipFile
    members: list[Member]


def _reject(file: str, rule: str) -> ValidationFailed:
    return ValidationFailed(f"{file}: {rule}")


def _read_at(stream: BinaryIO, offset: int, n: int) -> bytes:
    stream.seek(offset)
    return stream.read(n)


def read_members(stream: BinaryIO, file_size: int, file: str) -> ZipView:
    """The members, once the layout leaves every reader the same archive; else ``ValidationFailed``."""
    try:
        return _read_members(stream, file_size, file)
    except ValidationFailed:
        raise
    except Exception as exc:  # struct errors, BadZipFile, CRC errors …
        raise _reject(file, f"not a readable zip archive ({type(exc).__name__})") from None


def _read_members(stream: BinaryIO, file_size: int, file: str) -> ZipView:
    if file_size < 22:
        raise _reject(file, "not a readable zip archive (too short)")
    eocd_at = file_size - 22
    eocd = _read_at(stream, eocd_at, 22)
    if eocd[:4] != _EOCD:
        raise _reject(
            file,
            "not a readable zip archive: no end record in its last 22 bytes (truncated, or a comment or "
            "bytes after it, which readers could read as different archives)",
        )
    disk, cd_disk, entries_here, entries, cd_size, cd_offset, comment = struct.unpack("<HHHHIIH", eocd[4:])
    cd_end = eocd_at
    needs_zip64 = 0xFFFF in (entries_here, entries) or 0xFFFFFFFF in (cd_size, cd_offset)
    locator = _read_at(stream, eocd_at - 20, 20) if eocd_at >= 20 else b""
    if needs_zip64 and locator[:4] != _ZIP64_LOCATOR:
        raise _reject(file, "zip64 archive without its zip64 end locator")
    if locator[:4] == _ZIP64_LOCATOR:  # torch always writes one; zipfile and miniz both follow it
        _, record_at, _ = struct.unpack("<IQI", locator[4:])
        record = _read_at(stream, record_at, 56)
        if record[:4] != _ZIP64_EOCD:
            raise _reject(
                file,
                "zip64 end record is not where its locator says "
                "(bytes prepended or appended: another reader would see another archive)",
            )
        record_size, _, _, disk, cd_disk, entries_here, entries, cd_size, cd_offset = struct.unpack(
            "<QHHIIQQQQ", record[4:56]
        )
        if record_at + 12 + record_size != eocd_at - 20:
            raise _reject(file, "zip64 end record is not followed by its locator")
        cd_end = record_at
    if disk or cd_disk or entries_here != entries or comment:
        raise _reject(file, "multi-disk or commented zip archives are not accepted")
    if cd_offset + cd_size != cd_end:
        raise _reject(
            file,
            "zip central directory does not end where the end record starts "
            "(bytes prepended or appended: another reader would see another archive)",
        )
    if entries > MAX_MEMBERS:
        raise _reject(file, f"zip archive has more than {MAX_MEMBERS} members")
    archive = zipfile.ZipFile(stream)
    if archive.start_dir != cd_offset or len(archive.infolist()) != entries:
        raise _reject(file, "zip archive reads differently with another reader")
    members = [_member(stream, info, file) for info in archive.infolist()]
    _check_names(members, file)
    _check_tiling(stream, members, cd_offset, file)
    return ZipView(archive, members)


def _member(stream: BinaryIO, info: zipfile.ZipInfo, file: str) -> Member:
    name = info.orig_filename
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise _reject(file, f"zip member name {clean(repr(name), 120)} holds a control character")
    if info.flag_bits & 0x1:
        raise _reject(file, f"zip member {clean(name)} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _reject(file, f"zip member {clean(name)} uses compression method {info.compress_type}")
    local = _read_at(stream, info.header_offset, 30)
    if local[:4] != _LOCAL:
        raise _reject(file, f"zip member {clean(name)} has no local header where the directory says")
    _, _, method, _, _, _, _, _, name_len, extra_len = struct.unpack("<HHHHHIIIHH", local[4:30])
    raw_name = _read_at(stream, info.header_offset + 30, name_len)
    expected = name.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
    if raw_name != expected or method != info.compress_type:
        raise _reject(file, f"zip member {clean(name)}: local header and directory disagree")
    data_offset = info.header_offset + 30 + name_len + extra_len
    folded = name.encode("utf-8" if info.flag_bits & 0x800 else "cp437").lower().decode("latin-1")
    return Member(
        name, folded, info.header_offset, data_offset, info.compress_size, info.file_size, method, info
    )


def _check_names(members: list[Member], file: str) -> None:
    seen: dict[str, str] = {}
    for member in members:
        other = seen.get(member.folded)
        if other is not None:
            what = "twice" if other == member.name else f"and {clean(other)} (names differ only in case)"
            raise _reject(
                file,
                f"zip archive holds {clean(member.name)} {what}: readers would pick different members",
            )
        seen[member.folded] = member.name


def _descriptor_length(stream: BinaryIO, member: Member) -> int:
    if not member.info.flag_bits & 0x8:
        return 0
    zip64 = member.size >= 0xFFFFFFFF or member.file_size >= 0xFFFFFFFF or _has_zip64_extra(member)
    width = 8 if zip64 else 4
    signed = _read_at(stream, member.data_offset + member.size, 4) == _DESCRIPTOR
    return (4 if signed else 0) + 4 + 2 * width


def _has_zip64_extra(member: Member) -> bool:
    extra = member.info.extra
    at = 0
    while at + 4 <= len(extra):
        tag, size = struct.unpack("<HH", extra[at : at + 4])
        if tag == 0x0001:
            return True
        at += 4 + size
    return False


def _check_tiling(stream: BinaryIO, members: list[Member], cd_offset: int, file: str) -> None:
    at = 0
    for member in sorted(members, key=lambda m: m.local_offset):
        if member.local_offset != at:
            raise _reject(
                file,
                f"zip archive has {member.local_offset - at:+d} unaccounted bytes before member "
                f"{clean(member.name)} (hidden or overlapping data)",
            )
        at = member.data_offset + member.size + _descriptor_length(stream, member)
    if at != cd_offset:
        raise _reject(file, f"zip archive has {cd_offset - at:+d} unaccounted bytes before its directory")


def torch_data_pkl(view: ZipView) -> Member | None:
    """The member ``torch.load`` unpickles: ``<first member's folder>/data.pkl``, any case."""
    if not view.members:
        return None
    first = min(view.members, key=lambda m: m.info.header_offset).folded
    prefix = first.split("/", 1)[0] if "/" in first else ""
    wanted = f"{prefix}/data.pkl" if prefix else "data.pkl"
    for member in view.members:
        if member.folded == wanted:
            return member
    for member in view.members:  # not what torch reads, but still a pickle in a checkpoint
        if member.folded.endswith("data.pkl"):
            return member
    return None


def is_torchscript(view: ZipView) -> bool:
    """``torch.load`` hands an archive holding ``constants.pkl`` or code to ``torch.jit.load``."""
    return any(
        m.folded.rsplit("/", 1)[-1] == "constants.pkl" or "/code/" in f"/{m.folded}" for m in view.members
    )


def read_member(view: ZipView, member: Member, cap: int, file: str) -> bytes:
    """The member's bytes (CRC checked), at most ``cap``."""
    if member.file_size > cap:
        raise _reject(f"{file}:{clean(member.name)}", f"is larger than the {cap}-byte cap")
    try:
        with view.archive.open(member.info) as raw:
            return raw.read(cap + 1)
    except Exception as exc:
        where = f"{file}:{clean(member.name)}"
        raise _reject(where, f"unreadable zip member ({type(exc).__name__})") from None


def member_head(view: ZipView, member: Member, n: int, file: str) -> bytes:
    try:
        with view.archive.open(member.info) as raw:
            return raw.read(n)
    except Exception as exc:
        where = f"{file}:{clean(member.name)}"
        raise _reject(where, f"unreadable zip member ({type(exc).__name__})") from None
