"""CPRAS's client of PrintPLANR's API: it POSTs a hand-off and gets back the URL of a session
for the user.

PrintPLANR's API is PrintPLANR's to define; CPRAS calls `POST {base}/v1/handoffs/supplier`
and `POST {base}/v1/handoffs/buyer` with the payload as JSON, `Authorization: Bearer
<PRINTPLANR_API_KEY>` and `Idempotency-Key: <hand-off id>` (so a retried POST makes one
session), and takes `session_url` from a 2xx JSON answer. A 5xx or a timeout is tried again,
with exponential back-off; a 4xx is not. The session URL must be http(s) on the base URL's
host, or on a host of `PRINTPLANR_SESSION_HOSTS`, since the user is redirected there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3
from urllib3.util import Retry, Timeout

from models.cpras.settings import CprasSettings

RETRIED_STATUSES = frozenset({500, 502, 503, 504})
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
        """POST the hand-off; the session URL PrintPLANR answers with."""
        retry = Retry(
            total=self.retries,
            connect=self.retries,
            read=self.retries,
            status=self.retries,
            other=0,
            allowed_methods=frozenset({"POST"}),
            status_forcelist=RETRIED_STATUSES,
            backoff_factor=0.25,
            backoff_max=4,
            raise_on_status=False,
            respect_retry_after_header=False,
        )
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Idempotency-Key": handoff_id,
        }
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            answer = self.pool.request(
                "POST",
                self.base_url + PATHS[kind],
                body=json.dumps(payload).encode(),
                headers=headers,
                retries=retry,
                timeout=Timeout(connect=self.timeout, read=self.timeout),
                redirect=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise PrintplanrError(f"PrintPLANR could not be reached ({type(exc).__name__}).") from exc
        if not 200 <= answer.status < 300:
            raise PrintplanrError(f"PrintPLANR refused the hand-off (HTTP {answer.status}).")
        return self._session_url(answer.data)

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
