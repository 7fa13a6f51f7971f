"""Gunicorn settings for `make run`: uvicorn workers, one JSON access line per request.

Unless `RUN_WORKER=0`, the master also starts one background worker process
(`partner-gateway worker`: every API's background jobs) and stops it on shutdown. Deployments
that run workers on their own machines set `RUN_WORKER=0` here.
"""

import gc
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count())
worker_class = "uvicorn_worker.UvicornWorker"
# The app writes its own structured access log (core.request_context); gunicorn's is off.
accesslog = None
# X-Forwarded-For is believed only from the proxies TRUSTED_PROXIES names, and the app
# applies that itself (core.factory), so the server believes no one: by default uvicorn
# would trust any loopback peer, and each spoofed address would get a fresh rate budget.
forwarded_allow_ips = ""
graceful_timeout = 20
timeout = 60
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json_line": {"format": "%(message)s"},
        "plain": {"format": "%(asctime)s %(levelname)s [%(name)s] %(message)s"},
    },
    "handlers": {
        "access": {"class": "logging.StreamHandler", "formatter": "json_line", "stream": "ext://sys.stdout"},
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"},
    },
    "loggers": {
        "access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": "INFO"},
}


_background: subprocess.Popen[bytes] | None = None


def when_ready(server: Any) -> None:
    global _background
    if os.environ.get("RUN_WORKER", "1") != "0":
        command = [str(Path(sys.executable).with_name("partner-gateway")), "worker"]
        _background = subprocess.Popen(command)  # noqa: S603 - our own entry point, no user input
        server.log.info("background worker started (pid %s)", _background.pid)


def post_worker_init(worker: Any) -> None:
    """Take everything the app built at start-up (specs, validators, mappers) out of the
    garbage collector's reach. Otherwise each full collection walks it all again: a request
    that allocates a lot (a 5000-line import) set one off and stalled its worker for
    about 80 ms, a request's whole budget."""
    gc.freeze()


def on_exit(server: Any) -> None:
    if _background is not None and _background.poll() is None:
        _background.terminate()
        _background.wait(timeout=10)
