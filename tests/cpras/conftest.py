"""CPRAS fixtures: a fake PrintPLANR on 127.0.0.1, and an app that hands off to it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.api import registered
from core.config import Settings
from core.database import Database
from core.factory import create_app
from handlers.cpras.api import API
from models.cpras.demo import DEMO_CLIENT_ID
from tests.fake_printplanr import API_KEY, FakePrintplanr, fake_printplanr


@pytest.fixture
def cpras_db(database: Settings) -> Iterator[Database]:
    db = Database(database.database_url)
    yield db
    db.dispose()


@pytest.fixture
def printplanr(database: Settings) -> Iterator[FakePrintplanr]:
    with fake_printplanr(database.spec_dir / "cpras.yaml") as fake:
        yield fake


def handing_off_settings(database: Settings, printplanr: FakePrintplanr, **changes: Any) -> Settings:
    """The tests' settings, with CPRAS handing off to the fake PrintPLANR."""
    handing_off = {
        "printplanr_base_url": printplanr.base_url,
        "printplanr_api_key": API_KEY,
        "printplanr_timeout": 1.0,
        "printplanr_client_id": DEMO_CLIENT_ID,
        "public_url": "https://cpras.test",
    }
    cpras = dataclasses.replace(API.config(database), **{**handing_off, **changes})
    return dataclasses.replace(database, apis={**database.apis, API.name: cpras})


@pytest.fixture
def browser(database: Settings, printplanr: FakePrintplanr) -> Iterator[TestClient]:
    """A browser of the Print Orders area (HTTPS, so its Secure session cookie is sent)."""
    app = create_app(handing_off_settings(database, printplanr), registered())
    with TestClient(app, base_url="https://cpras.test") as client:
        yield client
