"""A compact fingerprint of a diff for finding patches that were edited when applied.

patch-id only matches a patch applied verbatim. Maintainers fix typos, drop a hunk or
rebase, and then only the set of added and removed lines stays mostly the same. The
fingerprint is that set, hashed: sorted unique 64-bit values, one per (file name, sign,
line without its ASCII whitespace), plus one per file name. Context lines and line numbers
are left out, so a rebased patch keeps its fingerprint exactly; whitespace is dropped, as
git patch-id drops it, so re-indenting does not count as an edit (dropping rather than
folding it costs one `bytes.translate` per file, where folding cost a call per line).

Anchors are hashed too: each hunk's section heading (the function name git prints after
`@@`) and the context lines just around each run of changes. They only temper the line
score (`similarity`): the same one-line comment added to two different functions has
identical changed lines, and only the anchors tell the two patches apart.

Layout: little-endian unsigned 64-bit integers in ascending order. The two top bits say
the kind: 0x line, 10 anchor, 11 file; so each kind is a slice of the array found with a
binary search instead of a second structure.

Similarity is the Dice coefficient 2|A∩B|/(|A|+|B|) over line hashes: symmetric, 1.0 for
the same change, and it falls off linearly with edits (3 of 50 lines reworded still scores
0.94). File hashes take part only when neither side changed any text line (mode changes,
binary files), because one shared file name would otherwise give two unrelated one-line
patches a high score. `containment` is there for the squash/split case, where a small patch
is wholly inside a larger one.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from itertools import repeat

# xxHash (XXH3, 64 bits) rather than hashlib's blake2b: the values only need to be stable
# and well spread, not cryptographic, and one call per changed line at a third of the
# cost matters because every patch mail and commit of an archive is fingerprinted.
from xxhash import xxh3_64_intdigest

from patchtrail.mail.difffiles import FileDiff, file_diffs

_TOP = 1 << 63
_FILE = _TOP | (1 << 62)
_LOW = _TOP - 1
_ANCHOR_BITS = (1 << 62) - 1
# Part of every value: a new seed makes fingerprints of an older layout never compare
# equal to these (the index's schema version changes with it).
_SEED = int.from_bytes(b"ptfp4\0\0\0", "little")
# What a line loses before it is hashed: ASCII whitespace, newline excepted.
_SPACE = b" \t\r\x0b\x0c"


def _hash(data: bytes) -> int:
    return xxh3_64_intdigest(data, _SEED)


def fingerprint(diff: str | Sequence[FileDiff]) -> bytes:
    """Sorted unique 64-bit hashes of the changed lines and file names of `diff` (the text,
    or its `file_diffs` when the caller has parsed them already)."""
    values: set[int] = set()
    for fd in file_diffs(diff) if isinstance(diff, str) else diff:
        name = fd.path.rsplit("/", 1)[-1].encode("utf-8", "surrogateescape")
        values.add(_hash(b"F\0" + name) | _FILE)
        for anchor in set(fd.anchors):
            values.add((_hash(b"A\0" + name + b"\0" + anchor.encode("utf-8", "surrogateescape"))
                        & _ANCHOR_BITS) | _TOP)
        for sign, lines in ((b"+\0", fd.plus), (b"-\0", fd.minus)):
            if not lines:
                continue
            # Each distinct line, sign kept and whitespace dropped (as git patch-id drops
            # it), is hashed with the sign and file name as seed. Joined, stripped and
            # hashed through `map` in one piece, no line passes through the interpreter.
            unique = set("\n".join(lines).encode("utf-8", "surrogateescape")
                         .translate(None, _SPACE).split(b"\n"))
            unique.discard(sign[:1])  # blank lines
            if unique:
                seed = _hash(sign + name + b"\0")
                values.update(map(_LOW.__and__, map(xxh3_64_intdigest, unique, repeat(seed))))
    return _encode(sorted(values))


def _encode(values: list[int]) -> bytes:
    arr = array("Q", values)
    if sys.byteorder != "little":
        arr.byteswap()
    return arr.tobytes()


def decode(fp: bytes) -> array:
    """The hashes of a fingerprint as an array of unsigned 64-bit ints, ascending."""
    if len(fp) % 8:
        raise ValueError(f"fingerprint length {len(fp)} is not a multiple of 8")
    arr = array("Q")
    arr.frombytes(fp)
    if sys.byteorder != "little":
        arr.byteswap()
    return arr


def _parts(fp: bytes) -> tuple[array, array, array]:
    """(line hashes, anchor hashes, file hashes): slices of one decoded array."""
    arr = decode(fp)
    anchors_at, files_at = bisect_left(arr, _TOP), bisect_left(arr, _FILE)
    return arr[:anchors_at], arr[anchors_at:files_at], arr[files_at:]


def _dice(a: array, b: array) -> float:
    if not a or not b:
        return 0.0
    common = len(set(a).intersection(b))
    return 2.0 * common / (len(a) + len(b))


def similarity(a: bytes, b: bytes) -> float:
    """Dice similarity of two fingerprints' changed lines, in [0, 1]; 0.0 if either is empty.

    Tempered by where the changes sit: with no anchor in common the score is at most 0.4
    of the line score; with the same anchors it is the line score. A rebase keeps the
    function names and the nearby lines, so it loses little.
    """
    lines_a, anchors_a, files_a = _parts(a)
    lines_b, anchors_b, files_b = _parts(b)
    if not (lines_a or lines_b):
        return _dice(files_a, files_b)
    score = _dice(lines_a, lines_b)
    if score and anchors_a and anchors_b:
        score *= 0.4 + 0.6 * _dice(anchors_a, anchors_b)
    return score


def changed_line_count(fp: bytes) -> int:
    """How many distinct changed lines the fingerprint holds (how much a match can prove)."""
    return len(_parts(fp)[0])


def containment(a: bytes, b: bytes) -> float:
    """Share of the smaller fingerprint's changed lines found in the other one, in [0, 1]."""
    lines_a = _parts(a)[0]
    lines_b = _parts(b)[0]
    if not lines_a or not lines_b:
        return 0.0
    small, large = (lines_a, lines_b) if len(lines_a) <= len(lines_b) else (lines_b, lines_a)
    return len(set(large).intersection(small)) / len(small)


def file_similarity(a: bytes, b: bytes) -> float:
    """Dice similarity of the file names two fingerprints touch, in [0, 1]."""
    return _dice(_parts(a)[2], _parts(b)[2])
