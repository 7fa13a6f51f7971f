"""Password hashing with Argon2id (argon2-cffi's defaults, RFC 9106's second recommendation).

`verify` takes the same time whether or not the account exists: an unknown account is
checked against a dummy hash, so response time does not reveal which emails are registered.
"""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches `stored_hash`; None (no such account) never matches."""
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's, and should be renewed."""
    return _hasher.check_needs_rehash(stored_hash)
