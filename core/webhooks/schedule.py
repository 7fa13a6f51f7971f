"""When a failed delivery is tried again: the schedule's wait, with jitter, or never."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from core.webhooks.settings import WebhookSettings

_random = random.SystemRandom()


def next_attempt(settings: WebhookSettings, attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` failed attempts; None once the schedule is spent.

    The jitter spreads the retries of many deliveries that failed together (a receiver that
    was down) so that they do not all come back at the same instant.
    """
    if attempts > len(settings.schedule):
        return None
    wait = settings.schedule[attempts - 1]
    stretch = 1 + _random.uniform(-settings.jitter, settings.jitter)
    return now + timedelta(seconds=wait * stretch)
