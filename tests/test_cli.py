"""The command-line contract: bad input is one line on stderr and exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "patchtrail", *args], capture_output=True,
                          text=True, env=env)


def _one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("error: ")
    for w in words:
        assert w in proc.stderr, proc.stderr


def test_unknown_option(tmp_path: Path) -> None:
    _one_line_error(run("index", "--bogus"), "--bogus")


def test_unknown_command() -> None:
    _one_line_error(run("frobnicate"), "frobnicate")


def test_bad_format_choice(tmp_path: Path) -> None:
    _one_line_error(run("dig", "--db", str(tmp_path / "x.db"), "--format", "yaml", "HEAD"), "yaml")


def test_missing_index(tmp_path: Path) -> None:
    _one_line_error(run("dig", "--db", str(tmp_path / "none.db"), "HEAD"), "none.db")


def test_not_a_repository(tmp_path: Path) -> None:
    _one_line_error(run("index", "--db", str(tmp_path / "x.db"), "--repo", str(tmp_path)), str(tmp_path))


def test_not_an_archive(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    _one_line_error(run("index", "--db", str(tmp_path / "x.db"), "--archive", str(tmp_path / "notes.txt")),
                    "notes.txt")


def test_missing_archive_path(tmp_path: Path) -> None:
    _one_line_error(run("index", "--db", str(tmp_path / "x.db"), "--archive", str(tmp_path / "nope")), "nope")


def test_index_file_that_is_not_sqlite(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database" * 100)
    _one_line_error(run("dig", "--db", str(bad), "HEAD"), "bad.db")


def test_index_file_of_another_application(tmp_path: Path) -> None:
    import sqlite3

    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t(x)")
    _one_line_error(run("index", "--db", str(other), "--archive", str(tmp_path)), "other.db")


def test_db_from_environment(tmp_path: Path) -> None:
    import os

    env = dict(os.environ, PATCHTRAIL_DB=str(tmp_path / "env.db"))
    _one_line_error(run("dig", "HEAD", env=env), "env.db")


@pytest.mark.parametrize("args", [["--help"], ["index", "--help"], ["dig", "--help"], ["demo", "--help"]])
def test_help_works(args: list[str]) -> None:
    proc = run(*args)
    assert proc.returncode == 0 and "Usage" in proc.stdout
