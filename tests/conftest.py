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


@pytest.fixture(scope="session")
def demo_indexed(tmp_path_factory: pytest.TempPathFactory):
    """The demo corpus and an index of it (repository and archive), built once per run;
    read-only for the tests that share it (series, origin, story)."""
    import subprocess
    import sys

    from patchtrail.corpus.demo import build_demo

    root = tmp_path_factory.mktemp("demo-indexed")
    corpus = build_demo(root)
    db = root / "x.db"
    proc = subprocess.run([sys.executable, "-m", "patchtrail", "index", "--db", str(db), "--repo",
                           str(corpus.repo), "--archive", str(corpus.archive), "-q"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return corpus, db
