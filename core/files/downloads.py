"""Headers of a file sent for download."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

_UNSAFE_IN_QUOTES = frozenset('"\\')


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """`Content-Disposition` naming the file by its base name only (RFC 6266).

    A name a client uploaded may hold a path (`../../etc/passwd.pdf`) or characters a
    quoted-string cannot carry: `filename` gets a plain-ASCII stand-in, and `filename*`
    the exact name in UTF-8 whenever the two differ.
    """
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = "".join("_" if ch in _UNSAFE_IN_QUOTES or not 32 <= ord(ch) < 127 else ch for ch in ascii_name)
    fallback = fallback.strip() or "file"
    header = f'{disposition}; filename="{fallback}"'
    if fallback != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header
