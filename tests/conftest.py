"""Shared fixtures: worlds built once per session (they are read-only for the tests)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from worlds import World, build_world

# Tests never read the user's git configuration (a pager or a diff.algorithm there would
# change what git prints).
os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="session")
def world_dir(world: World) -> Path:
    return world.repo.parent
