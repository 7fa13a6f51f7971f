"""CPRAS's client of PrintPLANR's API: it POSTs a hand-off and gets back the URL of a session
for the user.

PrintPLANR's API is PrintPLANR's to define; CPRAS calls `POST {base}/v1/handoffs/supplier`
and `POST {base}/v1/handoffs/buyer` with the payload as JSON, `Authorization: Bearer
<PRINTPLANR_API_KEY>` and `Idempotency-Key: <hand-off id>` (so a retried POST makes one
session), and takes `session_url` from a 2xx JSON answer. A 5xx or a timeout is tried again,
with exponential back-off; anything else (a 4xx, a refused connection) is not, and
urllib3's own retries are off so that nothing else is. The session URL must be http(s) on the base URL's
host, or on a host of `PRINTPLANR_SESSION_HOSTS`, since the user is redirected there.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3
from urllib3.util import Timeout

from models.cpras.settings import CprasSettings

BACKOFF, MAX_BACKOFF = 0.25, 4.0  # seconds before the first retry, and at most
MAX_ANSWER = 64 * 1024  # bytes of PrintPLANR's answer read, at most
PATHS = {"supplier": "/v1/handoffs/supplier", "buyer": "/v1/handoffs/buyer"}


class HandoffsOffError(RuntimeError):
    """PRINTPLANR_BASE_URL is not set: CPRAS has nowhere to hand users off to."""

    def __init__(self) -> None:
        super().__init__("Hand-offs to PrintPLANR are off: PRINTPLANR_BASE_URL is not set.")


class PrintplanrError(RuntimeError):
    """PrintPLANR did not give a session: the message says why, for the user and the logs."""


@dataclass(frozen=True)
class PrintplanrClient:
    base_url: str
    api_key: str
    timeout: float
    retries: int
    session_hosts: tuple[str, ...]
    pool: urllib3.PoolManager

    @classmethod
    def of(cls, cpras: CprasSettings) -> PrintplanrClient:
        if not cpras.printplanr_base_url:
            raise HandoffsOffError()
        return cls(
            base_url=cpras.printplanr_base_url,
            api_key=cpras.printplanr_api_key,
            timeout=cpras.printplanr_timeout,
            retries=cpras.printplanr_retries,
            session_hosts=cpras.printplanr_session_hosts,
            pool=urllib3.PoolManager(maxsize=8),
        )

    def hand_off(self, kind: str, payload: Mapping[str, Any], handoff_id: str) -> str:
        """POST the hand-off; the session URL PrintPLANR answers with. A 5xx or a timeout is
        tried again after 0.25 s, 0.5 s, 1 s… (at most 4 s); anything else is final."""
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Idempotency-Key": handoff_id,
        }
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        body = json.dumps(payload).encode()
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(BACKOFF * 2 ** (attempt - 1), MAX_BACKOFF))
            try:
                answer = self.pool.request(
                    "POST",
                    self.base_url + PATHS[kind],
                    body=body,
                    headers=headers,
                    retries=False,  # retried here, on 5xx and timeouts only
                    timeout=Timeout(connect=self.timeout, read=self.timeout, total=2 * self.timeout),
                    preload_content=False,
                )
            except urllib3.exceptions.NewConnectionError as exc:  # refused, unresolvable: a timeout's subclass
                raise PrintplanrError(f"PrintPLANR could not be reached ({type(exc).__name__}).") from exc
            except urllib3.exceptions.TimeoutError as exc:
                failure = PrintplanrError(f"PrintPLANR did not answer in time ({type(exc).__name__}).")
                continue
            except urllib3.exceptions.HTTPError as exc:
                raise PrintplanrError(f"PrintPLANR could not be reached ({type(exc).__name__}).") from exc
            try:
                data = answer.read(MAX_ANSWER + 1, decode_content=True)
            except urllib3.exceptions.TimeoutError as exc:
                failure = PrintplanrError(f"PrintPLANR did not answer in time ({type(exc).__name__}).")
                continue
            except urllib3.exceptions.HTTPError as exc:
                raise PrintplanrError(f"PrintPLANR's answer broke off ({type(exc).__name__}).") from exc
            finally:
                answer.release_conn()
            if answer.status >= 500:
                failure = PrintplanrError(f"PrintPLANR refused the hand-off (HTTP {answer.status}).")
                continue
            if not 200 <= answer.status < 300:
                raise PrintplanrError(f"PrintPLANR refused the hand-off (HTTP {answer.status}).")
            if len(data) > MAX_ANSWER:
                raise PrintplanrError("PrintPLANR's answer is too large.")
            return self._session_url(data)
        raise failure

    def _session_url(self, data: bytes) -> str:
        try:
            url = json.loads(data)["session_url"]
        except (ValueError, TypeError, KeyError):
            raise PrintplanrError("PrintPLANR's answer has no session_url.") from None
        parts = urlsplit(url) if isinstance(url, str) else None
        allowed = {urlsplit(self.base_url).hostname, *self.session_hosts}
        if (
            parts is None
            or parts.scheme not in {"https", "http"}
            or (parts.scheme == "http" and not self.base_url.startswith("http://"))
            or parts.hostname not in allowed
            or parts.username is not None
            or any(character.isspace() or ord(character) < 32 for character in url)
        ):
            raise PrintplanrError("PrintPLANR's session_url is not a URL of PrintPLANR's.")
        return str(url)
