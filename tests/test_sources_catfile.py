"""patchtrail.sources.catfile: one `git cat-file --batch` process, pipelined reads."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from patchtrail.sources.catfile import CatFile
from patchtrail.sources.errors import SourceError

ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


@pytest.fixture(scope="module")
def blobs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A bare repository with 300 small blobs and 20 blobs of 1 MiB (bigger than a pipe)."""
    path = tmp_path_factory.mktemp("cat") / "r.git"
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True, env=ENV)
    contents = [f"blob number {i}\n".encode() * (i % 7 + 1) for i in range(300)]
    contents += [bytes([i]) * (1 << 20) for i in range(20)]
    contents.append(b"")  # an empty blob
    stream = bytearray()
    for n, data in enumerate(contents, 1):
        stream += b"blob\nmark :%d\ndata %d\n%s\n" % (n, len(data), data)
    stream += b"done\n"
    marks = path / "marks"
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet", "--done",
                    f"--export-marks={marks}"], input=bytes(stream), check=True, env=ENV)
    oids = {}
    for line in marks.read_text().split("\n"):
        if line:
            mark, oid = line.split()
            oids[oid] = contents[int(mark[1:]) - 1]
    return path, oids


def test_get(blobs: tuple[Path, dict[str, bytes]]) -> None:
    path, oids = blobs
    with CatFile(path) as cat:
        for oid, data in list(oids.items())[:10]:
            assert cat.get(oid) == data
        assert cat.get("0" * 40) is None
        assert cat.get("no-such-ref:m") is None
        empty = [o for o, d in oids.items() if d == b""][0]
        assert cat.get(empty) == b""
        with pytest.raises(ValueError):
            cat.get("a\nb")


def test_stream_pipelined_in_order(blobs: tuple[Path, dict[str, bytes]]) -> None:
    path, oids = blobs
    specs = []
    for i, oid in enumerate(oids):
        specs.append(oid)
        if i % 50 == 0:
            specs.append("f" * 40)  # missing ones interleaved
    with CatFile(path) as cat:
        got = list(cat.stream(s for s in specs))  # a lazy iterable
        assert [s for s, _ in got] == specs
        for spec, data in got:
            assert data == oids.get(spec)
        # the same process keeps answering afterwards
        first = next(iter(oids))
        assert cat.get(first) == oids[first]
        assert list(cat.stream([])) == []


def test_abandoned_stream_then_get(blobs: tuple[Path, dict[str, bytes]]) -> None:
    path, oids = blobs
    big = [o for o, d in oids.items() if len(d) == 1 << 20]
    with CatFile(path) as cat:
        it = cat.stream(big * 3)
        assert next(it)[1] == oids[big[0]]
        it.close()  # unread answers are thrown away with the process
        assert cat.get(big[1]) == oids[big[1]]


def test_stream_passes_on_the_callers_error(blobs: tuple[Path, dict[str, bytes]]) -> None:
    path, oids = blobs

    def specs():
        yield next(iter(oids))
        raise KeyError("boom")

    with CatFile(path) as cat:
        with pytest.raises(KeyError):
            list(cat.stream(specs()))
        first = next(iter(oids))
        assert cat.get(first) == oids[first]


def test_close_ends_process(blobs: tuple[Path, dict[str, bytes]]) -> None:
    path, oids = blobs
    cat = CatFile(path)
    first = next(iter(oids))
    assert cat.get(first) == oids[first]
    proc = cat._proc
    cat.close()
    assert proc is not None and proc.poll() is not None
    cat.close()  # twice is fine


def test_not_a_repository(tmp_path: Path) -> None:
    with CatFile(tmp_path) as cat:
        with pytest.raises(SourceError) as err:
            cat.get("HEAD")
    assert str(err.value).startswith(str(tmp_path.resolve()) + ": ")
    assert "\n" not in str(err.value)
