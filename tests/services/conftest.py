"""Fixtures for service tests: the services of a hub on a data dir in tmp_path, without HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hubstead.server.app import build_services
from hubstead.server.services.registry import Services
from hubstead.server.settings import load_settings


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Services]:
    """Every service of a hub on its embedded defaults (SQLite, files), closed afterwards."""
    services = build_services(load_settings({"data_dir": tmp_path}, environ={}))
    yield services
    services.close()
