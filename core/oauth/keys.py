"""The keys access tokens are signed with: a ring of ES256 keys, each with its `kid`.

The newest key signs; every key in the ring verifies. Rotation adds a key, which signs from
then on, while the older ones keep verifying the tokens they signed until those expire;
pruning then drops them. The ring is a JWKS document of private keys, kept where every
worker of every machine reads it (a file the deployment distributes, as it does other
secrets); a developer's machine gets one made on first use, in the instance directory.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from joserfc.jwt import JWTClaimsRegistry

ALGORITHM = "ES256"


class InvalidTokenError(Exception):
    """A token that is malformed, signed by no key of the ring, expired, or not for us."""


class KeyRing:
    def __init__(self, keys: Sequence[ECKey]) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        self.keys = tuple(keys)
        self._verifying = KeySet(list(self.keys))

    @classmethod
    def generate(cls) -> KeyRing:
        return cls([_new_key()])

    @classmethod
    def from_jwks(cls, document: Mapping[str, Any]) -> KeyRing:
        return cls([ECKey.import_key(dict(key)) for key in document.get("keys", [])])

    @classmethod
    def load(cls, path: Path) -> KeyRing:
        """The ring kept at `path`, made with one key if there is none yet."""
        if not path.exists():
            cls.generate().save(path, exclusive=True)
        return cls.from_jwks(json.loads(path.read_text()))

    def save(self, path: Path, exclusive: bool = False) -> None:
        """Write the ring (private keys) to `path`, readable by its owner only, atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_jwks(private=True), indent=2)
        if exclusive:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first
                return
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
            return
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        temporary.replace(path)

    def to_jwks(self, private: bool = False) -> dict[str, Any]:
        return {"keys": [key.as_dict(private=private) for key in self.keys]}

    @property
    def signer(self) -> ECKey:
        return self.keys[-1]

    def rotated(self) -> KeyRing:
        """The ring with a new key, which signs from now on."""
        return KeyRing([*self.keys, _new_key()])

    def pruned(self, keep: int = 2) -> KeyRing:
        """The ring with only its `keep` newest keys (once the tokens of the others have expired)."""
        return KeyRing(self.keys[-max(1, keep) :])

    def sign(self, claims: Mapping[str, Any], token_type: str = "at+jwt") -> str:  # noqa: S107 - a JWT type
        header = {"alg": ALGORITHM, "kid": self.signer.kid, "typ": token_type}
        return jwt.encode(header, dict(claims), self.signer, algorithms=[ALGORITHM])

    def verify(self, token: str, issuer: str, audience: str, leeway: int = 30) -> dict[str, Any]:
        """The claims of a token this ring signed, for `audience`, from `issuer`, not expired."""
        try:
            decoded = jwt.decode(token, self._verifying, algorithms=[ALGORITHM])
            registry = JWTClaimsRegistry(
                leeway=leeway,
                exp={"essential": True},
                iss={"essential": True, "value": issuer},
                aud={"essential": True, "value": audience},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise InvalidTokenError(str(exc)) from None
        return dict(decoded.claims)


def _new_key() -> ECKey:
    kid = f"{time.strftime('%Y%m%d', time.gmtime())}-{secrets.token_hex(4)}"
    return ECKey.generate_key("P-256", parameters={"kid": kid, "alg": ALGORITHM, "use": "sig"}, private=True)


def ring_at(path: Path) -> KeyRing:
    """The ring at `path`, made on first use (a developer's machine), and read again only when
    the file changes: a rotation reaches every worker without a restart."""
    if not path.exists():
        KeyRing.load(path)
    return _ring(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _ring(path: Path, modified: int) -> KeyRing:
    return KeyRing.load(path)
