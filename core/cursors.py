"""Cursor pagination: opaque, signed cursors over a keyset, stable while rows are inserted.

A page ends at its last row, and the cursor names that row by its sort key (a timestamp and
an id, say); the next page is the rows after it in that order, found through the index of
the ordering. Unlike an offset, rows inserted meanwhile neither shift a row onto the next
page twice nor past it unseen, and a page deep into a million rows costs what the first
one does. The cursor is signed (HMAC-SHA256) together with the list it belongs to, so a
client cannot alter it, or take it to another list, tenant or set of filters: each of
those answers 400.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, literal, tuple_

from core.columns import aware
from core.problems import ValidationFailed

SIGNATURE_BYTES = 16
CURSOR_PARAMETER = "cursor"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    """Encodes the sort key of a page's last row, and reads it back only if it is untouched.

    `scope` names the list a cursor belongs to (its name, the tenant, its filters): a cursor
    decodes only under the scope it was made for.
    """

    def __init__(self, secret: str, *, parameter: str = CURSOR_PARAMETER) -> None:
        self._key = hashlib.sha256(b"cursor\0" + secret.encode()).digest()
        self.parameter = parameter

    def _sign(self, scope: str, payload: str) -> bytes:
        message = scope.encode() + b"\0" + payload.encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()[:SIGNATURE_BYTES]

    def encode(self, scope: str, key: Sequence[Any]) -> str:
        payload = _b64(json.dumps([_plain(value) for value in key], separators=(",", ":")).encode())
        return f"{payload}.{_b64(self._sign(scope, payload))}"

    def decode(self, scope: str, cursor: str, *, length: int | None = None) -> list[Any]:
        """The sort key `cursor` carries; a 400 naming the parameter if it was not made here for `scope`."""
        payload, _, signature = cursor.partition(".")
        try:
            # The signature's text, not its bytes: base64 leaves some bits of the last character unused.
            valid = hmac.compare_digest(signature.encode(), _b64(self._sign(scope, payload)).encode())
            key = json.loads(_unb64(payload)) if valid else None
        except (binascii.Error, ValueError, UnicodeDecodeError):
            key = None
        if not isinstance(key, list) or (length is not None and len(key) != length):
            message = "The cursor is not one this list gave out (keep the other parameters unchanged while paging)."
            raise ValidationFailed(message, errors={self.parameter: [message]})
        return key


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return aware(value).isoformat()
    return value


def timestamp(value: Any) -> datetime:
    """A timestamp of a decoded key (signed by us, so well-formed)."""
    return datetime.fromisoformat(str(value))


def after(columns: Sequence[Any], key: Sequence[Any], *, descending: bool = False) -> ColumnElement[bool]:
    """Rows strictly after `key` in the order of `columns` (all ascending, or all descending),
    as one row-value comparison, which an index on those columns serves."""
    row = tuple_(*columns)
    bound = tuple_(*(literal(value, column.type) for column, value in zip(columns, key, strict=True)))
    return row < bound if descending else row > bound


def page(rows: Sequence[Any], limit: int) -> tuple[Sequence[Any], bool]:
    """The first `limit` of `rows` (fetched with `limit + 1`), and whether more follow."""
    return rows[:limit], len(rows) > limit
