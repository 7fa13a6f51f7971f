"""The tiny API: a throwaway API copied into a temporary folder and mounted from there.

It declares everything an API can (verifiers by scheme name, scopes, permissions, its own
error format, body limits, a table with its own migration, a job, an outbox consumer,
demo credentials) and the core serves it as it is, with no change to `core/`. Its
database is a SQLite file of its own, so its table never meets the service's.
"""

from __future__ import annotations

import importlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.api import Api
from core.cli import migrate
from core.config import Settings
from core.factory import App, create_app

TINY_SOURCE = Path(__file__).resolve().parent / "tiny"


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the tiny API in a temporary folder, importable from there."""
    folder = tmp_path_factory.mktemp("plugin")
    shutil.copytree(TINY_SOURCE, folder, dirs_exist_ok=True)
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))


@pytest.fixture(scope="session")
def tiny(tiny_folder: Path) -> Api[Any]:
    module = importlib.import_module("tinyapi.api")
    assert Path(str(module.__file__)).is_relative_to(tiny_folder)
    api: Api[Any] = module.API
    return api


@pytest.fixture(scope="session")
def tiny_settings(tiny_folder: Path, tiny: Api[Any], tmp_path_factory: pytest.TempPathFactory) -> Settings:
    instance = tmp_path_factory.mktemp("tiny-instance")
    env = {"INSTANCE_DIR": str(instance), "SPEC_DIR": str(tiny_folder), "VALIDATE_RESPONSES": "1"}
    settings = Settings.from_env(env)
    migrate(settings, [tiny])
    return settings


@pytest.fixture(scope="session")
def tiny_app(tiny_settings: Settings, tiny: Api[Any]) -> App:
    return create_app(tiny_settings, [tiny])


@pytest.fixture(scope="session")
def tiny_client(tiny_app: App) -> Iterator[TestClient]:
    with tiny_app.test_client() as client:
        yield client


READER = {"Authorization": "Bearer reader-ann"}
WRITER = {"Authorization": "Bearer client-notes:write"}
ADMIN = {"Authorization": "Bearer client-admin"}
