"""What Mihwar handlers share: the API's settings, its cursor codec and its idempotency keys."""

from __future__ import annotations

import functools
from datetime import timedelta

from core.cursors import CursorCodec
from core.idempotency import IdempotencyKeys
from core.unit_of_work import current_unit
from models.mihwar.events import API_NAME
from models.mihwar.settings import MihwarSettings


def mihwar_settings() -> MihwarSettings:
    from handlers.mihwar.api import API  # the API declares these handlers: imported when first served

    return API.config(current_unit().settings)


@functools.cache
def _codec(secret: str) -> CursorCodec:
    return CursorCodec(secret)


def cursors() -> CursorCodec:
    return _codec(mihwar_settings().cursor_secret)


@functools.cache
def _keys(hours: int) -> IdempotencyKeys:
    return IdempotencyKeys(API_NAME, retention=timedelta(hours=hours))


def idempotency_keys() -> IdempotencyKeys:
    return _keys(mihwar_settings().idempotency_hours)
