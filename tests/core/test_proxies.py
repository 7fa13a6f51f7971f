"""X-Forwarded-For is believed only from the proxies TRUSTED_PROXIES names (none by default)."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.api import Api
from core.config import Settings
from core.factory import create_app
from tests.core.conftest import READER


def client_seen(app: Any, peer: str, caplog: pytest.LogCaptureFixture, **headers: str) -> str:
    with TestClient(app, client=(peer, 50000)) as client, caplog.at_level(logging.INFO, logger="access"):
        client.get("/tiny/whoami", headers={**READER, **headers})
    record = json.loads([entry for entry in caplog.records if entry.name == "access"][-1].getMessage())
    seen: str = record["client"]
    return seen


def test_by_default_no_peer_is_a_proxy(
    tiny_settings: Settings, tiny: Api[Any], caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(tiny_settings, [tiny])

    assert client_seen(app, "127.0.0.1", caplog, **{"X-Forwarded-For": "203.0.113.9"}) == "127.0.0.1"


def test_a_named_proxy_is_believed(tiny_settings: Settings, tiny: Api[Any], caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(replace(tiny_settings, trusted_proxies=("10.0.0.0/8",)), [tiny])

    assert client_seen(app, "10.1.2.3", caplog, **{"X-Forwarded-For": "203.0.113.9"}) == "203.0.113.9"
    assert client_seen(app, "192.0.2.1", caplog, **{"X-Forwarded-For": "203.0.113.9"}) == "192.0.2.1"


def test_the_setting_is_read_from_the_environment() -> None:
    settings = Settings.from_env({"TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/16"})

    assert settings.trusted_proxies == ("10.0.0.1", "192.168.0.0/16")
    assert Settings.from_env({}).trusted_proxies == ()


def test_the_server_itself_believes_no_one() -> None:
    """gunicorn's own setting is empty, so only the app's (above) applies."""
    from core.config import PROJECT_ROOT

    namespace: dict[str, Any] = {}
    exec((PROJECT_ROOT / "gunicorn.conf.py").read_text(), namespace)  # noqa: S102 - our own config file

    assert namespace["forwarded_allow_ips"] == ""
