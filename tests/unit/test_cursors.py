"""Signed cursors: a key comes back only under the scope it was made for, and only untouched."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.cursors import CursorCodec, page, timestamp
from core.problems import ValidationFailed

MOMENT = datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=UTC)


def test_a_key_survives_the_round_trip() -> None:
    codec = CursorCodec("secret")

    cursor = codec.encode("items|org_1", [MOMENT, "item_1"])
    moment, row_id = codec.decode("items|org_1", cursor, length=2)

    assert (timestamp(moment), row_id) == (MOMENT, "item_1")
    assert len(cursor) < 512


@pytest.mark.parametrize(
    ("secret", "scope"),
    [("secret", "items|org_2"), ("secret", "orders|org_1"), ("another secret", "items|org_1")],
    ids=["other-tenant", "other-list", "other-deployment-secret"],
)
def test_a_key_does_not_decode_elsewhere(secret: str, scope: str) -> None:
    cursor = CursorCodec("secret").encode("items|org_1", [MOMENT, "item_1"])

    with pytest.raises(ValidationFailed) as refused:
        CursorCodec(secret).decode(scope, cursor)

    assert list(refused.value.errors or {}) == ["cursor"]


def test_the_length_of_the_key_is_checked() -> None:
    codec = CursorCodec("secret")

    with pytest.raises(ValidationFailed):
        codec.decode("s", codec.encode("s", [1, 2, 3]), length=2)


def test_a_page_knows_whether_more_follow() -> None:
    assert page([1, 2, 3], 2) == ([1, 2], True)
    assert page([1, 2], 2) == ([1, 2], False)
