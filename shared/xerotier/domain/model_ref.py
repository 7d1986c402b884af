"""How a model is addressed (pure): a version's UUID, or a name with an optional selector.

    3f2c…-…-…            the version with that id (as before names were accepted)
    name                 the name's latest version (its newest version while none is latest)
    name@latest          the same
    name@1.2.0           the version of that SemVer precedence
    name@champion        the version the alias ``champion`` points at

Names may contain ``/`` (``meta-llama/Llama-3.1-8B``). In a URL path the reference is ONE path
segment: ``/`` is written ``%2F`` (and ``@`` may be written ``%40``), e.g.
``/v1/models/meta-llama%2FLlama-3.1-8B@2.0.0/files/config.json``. The gateway matches routes on the
raw (still encoded) segment and the reference is decoded exactly once, here (``decode_segment``).
On the command line the reference is written as is: ``xeroctl models get meta-llama/Llama-3.1-8B@2.0.0``.

Aliases start with a letter, are at most 64 characters of letters, digits, ``-``, ``_`` and ``.``,
and can be neither a version, ``latest``, ``main`` (the Hub's name for latest) nor 40 hex characters
(a commit id on the Hub protocol), so a selector always means one thing.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from urllib.parse import unquote

from xerotier.domain.semver import Version
from xerotier.errors import InvalidInput

LATEST = "latest"
RESERVED_ALIASES = frozenset({LATEST, "main"})
MAX_NAME_LENGTH = 200
_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_TAG_KEY = re.compile(r"^[A-Za-z0-9_./-]{1,128}$")
MAX_TAG_VALUE = 5000


@dataclass(frozen=True)
class ModelRef:
    """A parsed reference: ``version_id`` set, or ``name`` with a ``selector`` (None: latest)."""

    version_id: uuid.UUID | None = None
    name: str | None = None
    selector: str | None = None

    @property
    def wants_latest(self) -> bool:
        return self.version_id is None and self.selector in (None, LATEST)

    @property
    def version(self) -> str | None:
        """The selector when it is a version string, else None."""
        return self.selector if self.selector is not None and is_version(self.selector) else None

    @property
    def alias(self) -> str | None:
        """The selector when it names an alias, else None."""
        if self.selector is None or self.selector == LATEST or is_version(self.selector):
            return None
        return self.selector


def is_version(text: str) -> bool:
    try:
        Version.parse(text)
    except InvalidInput:
        return False
    return True


def decode_segment(raw: str) -> str:
    """A URL path segment as the reference it encodes (percent-decoded once)."""
    return unquote(raw)


def parse_model_ref(text: str) -> ModelRef:
    """``text`` (already decoded) as a reference, or ``InvalidInput("Invalid model ID")``."""
    if not isinstance(text, str) or not text or len(text) > MAX_NAME_LENGTH + 80:
        raise InvalidInput("Invalid model ID")
    try:
        return ModelRef(version_id=uuid.UUID(text))
    except ValueError:
        pass
    name, at, selector = text.rpartition("@")
    if not at:
        name, selector = text, ""
    elif not selector:
        raise InvalidInput("Invalid model ID")  # nothing after "@"
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH or any(ord(c) < 32 for c in text):
        raise InvalidInput("Invalid model ID")
    return ModelRef(name=name, selector=selector or None)


def check_alias(alias: str) -> str:
    """``alias`` if it may name an alias, else ``InvalidInput`` saying why."""
    if alias in RESERVED_ALIASES:
        raise InvalidInput(f"Alias '{alias}' is reserved")
    if not isinstance(alias, str) or not _ALIAS.match(alias):
        raise InvalidInput("Invalid alias: 1 to 64 letters, digits, '-', '_' or '.', starting with a letter")
    if is_version(alias) or is_commit(alias):
        raise InvalidInput(f"Alias '{alias}' reads as a version or a commit id")
    return alias


def check_tag(key: str, value: object) -> tuple[str, str]:
    if not isinstance(key, str) or not _TAG_KEY.match(key):
        raise InvalidInput("Invalid tag key: 1 to 128 letters, digits, '-', '_', '.' or '/'")
    if not isinstance(value, str) or len(value) > MAX_TAG_VALUE or any(ord(c) < 32 for c in value):
        raise InvalidInput(f"Invalid tag value: a string of at most {MAX_TAG_VALUE} printable characters")
    return key, value


def parse_tag_filter(text: str) -> tuple[str, str]:
    """``key:value`` of a list filter (the value may contain ':'; the key may not)."""
    key, sep, value = text.partition(":")
    if not sep or not key:
        raise InvalidInput(f"Invalid tag filter '{text}': write key:value")
    return check_tag(key, value)


def is_commit(text: str) -> bool:
    return bool(_COMMIT.match(text))


def commit_of(version_id: uuid.UUID) -> str:
    """The version's stable 40-hex commit id (the Hub protocol's ``sha``): derived from its id."""
    return hashlib.sha1(b"xerotier-version:" + version_id.bytes).hexdigest()
