"""`partner-gateway worker`: runs every mounted API's background jobs, and the outbox relay.

Run as many workers as you like, on any machines: the jobs claim their work (core.jobs),
so no item is handled twice. A job that handled something is run again at once; one
that found nothing waits its interval. A job that fails is logged and tried again after
its interval, so one broken job does not stop the others. SIGTERM (or SIGINT) lets the
batch in hand finish, then the worker exits.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Sequence
from types import FrameType
from typing import Any

from core.api import Api, Mounted
from core.config import Settings
from core.database import Database
from core.jobs import Job, JobContext
from core.ops.metrics import JOB_FAILURES, JOB_ITEMS, watch_pool
from core.outbox import purge_job, relay_job

logger = logging.getLogger("partner_gateway.worker")


def jobs_of(apis: Sequence[Mounted[Any]]) -> list[Job]:
    """The outbox relay and purge, then each API's jobs; a job two APIs share runs once."""
    handlers = {mounted.api.name: mounted.api.event_handlers for mounted in apis}
    jobs: dict[str, Job] = {job.name: job for job in (relay_job(handlers), purge_job())}
    for mounted in apis:
        for job in mounted.api.jobs(mounted):
            jobs.setdefault(job.name, job)
    return list(jobs.values())


class Worker:
    def __init__(self, settings: Settings, apis: Sequence[Api[Any]], poll: float = 2.0) -> None:
        self.database = Database(settings.database_url)
        watch_pool(self.database.engine)
        self.context = JobContext(self.database, settings)
        self.jobs = jobs_of([Mounted(api, settings, self.database) for api in apis])
        self.poll = poll
        self.stopping = threading.Event()

    def run(self, once: bool = False) -> None:
        """Run the jobs until stopped; with `once`, until none of them finds anything to do."""
        due = {job.name: 0.0 for job in self.jobs}
        try:
            while not self.stopping.is_set():
                busy = False
                for job in self.jobs:
                    if self.stopping.is_set() or time.monotonic() < due[job.name]:
                        continue
                    handled = self._run(job)
                    busy = busy or handled > 0
                    due[job.name] = time.monotonic() if handled > 0 else time.monotonic() + job.interval
                if once and not busy:
                    return
                if not busy:
                    wait = min(due.values()) - time.monotonic()
                    self.stopping.wait(max(0.0, min(wait, self.poll)))
        finally:
            for job in self.jobs:
                if job.stop is not None:
                    try:
                        job.stop(self.context)
                    except Exception:
                        logger.exception("job %s did not stop cleanly", job.name)
            self.database.dispose()

    def _run(self, job: Job) -> int:
        try:
            handled = job.run(self.context)
        except Exception:
            logger.exception("job %s failed; trying again in %.0f s", job.name, job.interval)
            JOB_FAILURES.labels(job.name).inc()
            return 0
        if handled:
            JOB_ITEMS.labels(job.name).inc(handled)
            logger.info("%s: handled %d item(s)", job.name, handled)
        return handled

    def stop_on_signals(self) -> None:
        def stop(signum: int, _frame: FrameType | None) -> None:
            logger.info("received %s: finishing the batch in hand, then stopping", signal.Signals(signum).name)
            self.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
