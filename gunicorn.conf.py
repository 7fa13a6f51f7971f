"""Gunicorn settings for `make run`: uvicorn workers, one JSON access line per request.

Unless `RUN_WORKER=0`, the master also starts one background worker process
(`partner-gateway worker`: every API's background jobs) and stops it on shutdown. Deployments
that run workers on their own machines set `RUN_WORKER=0` here.

Metrics: every process of this node (its web workers and that background worker) counts in
a directory of this master's own, which a scrape of `/metrics` adds up (core.ops.metrics);
it is named when the master starts, before any of them imports the Prometheus client, and
removed on exit.
With `METRICS_PORT`, `/metrics` and the probes are served on that port (bound here too,
on `METRICS_HOST`) and `/metrics` is not served on the public one.

On SIGTERM the master stops accepting connections, lets each web worker finish the
requests in flight for up to `GRACEFUL_TIMEOUT` seconds (20), then stops the background
worker, which finishes or gives back its batch (core.worker).
"""

import gc
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

_metrics_dir = Path(
    os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    or Path(os.environ.get("INSTANCE_DIR") or "var").resolve() / "metrics" / str(os.getpid())
)
_metrics_port = os.environ.get("METRICS_PORT")

bind = [f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"]
if _metrics_port:
    bind.append(f"{os.environ.get('METRICS_HOST', os.environ.get('HOST', '127.0.0.1'))}:{_metrics_port}")
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count())
worker_class = "uvicorn_worker.UvicornWorker"
# The app writes its own structured access log (core.request_context); gunicorn's is off.
accesslog = None
# X-Forwarded-For is believed only from the proxies TRUSTED_PROXIES names, and the app
# applies that itself (core.factory), so the server believes no one: by default uvicorn
# would trust any loopback peer, and each spoofed address would get a fresh rate budget.
forwarded_allow_ips = ""
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT") or 20)
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


def on_starting(server: Any) -> None:
    """Name the metrics directory for every process started from here on (the web workers,
    the background worker), and start counting afresh: what an earlier run left there is
    not this node's."""
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_metrics_dir)
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    _metrics_dir.mkdir(parents=True)


def child_exit(server: Any, worker: Any) -> None:
    """A web worker's gauges leave the sums with it (its counters stay counted)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


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
    """Stop the background worker (it may take its delivery grace and a margin), then forget the counts."""
    if _background is not None and _background.poll() is None:
        _background.send_signal(signal.SIGTERM)
        try:
            _background.wait(timeout=45)
        except subprocess.TimeoutExpired:
            server.log.warning("background worker did not stop in 45 s; killing it")
            _background.kill()
            _background.wait()
    shutil.rmtree(_metrics_dir, ignore_errors=True)
