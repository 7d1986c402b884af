"""API keys: ``xero_<project-slug>_<secret>``.

The secret is 40 random alphanumeric characters (~238 bits), so a single fast keyed hash
(HMAC-SHA256) is as strong as a password KDF would be here while costing microseconds per request;
only the hash is stored. ``lookup`` (the secret's first 12 characters) finds the row; the full
hash is then compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass

PREFIX = "xero_"
SECRET_LENGTH = 40
LOOKUP_LENGTH = 12
_ALPHABET = string.ascii_letters + string.digits
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
# A fixed application pepper: keys are high-entropy, the HMAC only domain-separates the hash.
_PEPPER = b"xerotier-api-key-v1"


@dataclass(frozen=True)
class ParsedKey:
    project_slug: str
    secret: str

    @property
    def lookup(self) -> str:
        return self.secret[:LOOKUP_LENGTH]


def valid_slug(slug: str) -> bool:
    return bool(_SLUG.match(slug))


def new_secret() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(SECRET_LENGTH))


def format_key(project_slug: str, secret: str) -> str:
    return f"{PREFIX}{project_slug}_{secret}"


def parse_key(key: str) -> ParsedKey | None:
    """Split a presented key, or None when it does not have the key's shape."""
    if not key.startswith(PREFIX):
        return None
    slug, sep, secret = key[len(PREFIX) :].rpartition("_")
    if not sep or not valid_slug(slug) or len(secret) != SECRET_LENGTH or not secret.isalnum():
        return None
    return ParsedKey(slug, secret)


def hash_secret(secret: str) -> str:
    return hmac.new(_PEPPER, secret.encode(), hashlib.sha256).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
