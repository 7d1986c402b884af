"""Semantic versions per SemVer 2.0.0 (https://semver.org), strictly.

No leading ``v``, no leading zeros in numeric identifiers, arbitrary-size integers.
``Version`` objects compare by precedence, so build metadata is ignored: ``1.0.0+a == 1.0.0+b``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

from xerotier.errors import InvalidInput

_NUM = r"0|[1-9]\d*"
_IDENT = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
_PATTERN = re.compile(
    rf"^(?P<major>{_NUM})\.(?P<minor>{_NUM})\.(?P<patch>{_NUM})"
    rf"(?:-(?P<pre>{_IDENT}(?:\.{_IDENT})*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?",
    re.ASCII,  # \d is 0-9 only: no other script's digits
)
MAX_LENGTH = 128


def _reason(text: str) -> str:
    if not text:
        return "it is empty"
    if text[0] in "vV":
        return "drop the leading 'v'"
    core = re.split(r"[-+]", text, maxsplit=1)[0]
    parts = core.split(".")
    if len(parts) != 3:
        return "it needs exactly three numeric parts MAJOR.MINOR.PATCH"
    for part in parts:
        if not part.isdigit():
            return f"'{part}' is not a non-negative integer"
        if len(part) > 1 and part.startswith("0"):
            return f"'{part}' has a leading zero"
    return (
        "pre-release and build identifiers must be non-empty [0-9A-Za-z-], numeric ones without leading zeros"
    )


@total_ordering
@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse ``text`` or raise ``InvalidInput`` naming what is wrong."""
        if not isinstance(text, str) or len(text) > MAX_LENGTH:
            raise InvalidInput(f"Invalid version: longer than {MAX_LENGTH} characters")
        match = _PATTERN.fullmatch(text)  # not match(): '$' would accept a trailing newline
        if match is None:
            raise InvalidInput(f"Invalid version '{text}': {_reason(text)} (expected semver, e.g. 1.0.0)")
        pre, build = match.group("pre"), match.group("build")
        return cls(
            int(match.group("major")),
            int(match.group("minor")),
            int(match.group("patch")),
            tuple(pre.split(".")) if pre else (),
            tuple(build.split(".")) if build else (),
        )

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text

    def precedence_key(self) -> tuple:
        """A sort key that orders by SemVer precedence (build metadata ignored)."""
        if not self.prerelease:
            pre: tuple = ((1,),)  # a release outranks any of its pre-releases
        else:
            pre = tuple((0, (0, int(p), "") if p.isdigit() else (1, 0, p)) for p in self.prerelease)
            pre = (*pre, (0, (-1, 0, "")))  # a longer pre-release outranks its prefix
        return (self.major, self.minor, self.patch, pre)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.precedence_key() < other.precedence_key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.precedence_key() == other.precedence_key()

    def __hash__(self) -> int:
        return hash(self.precedence_key())


DEFAULT_VERSION = "1.0.0"
