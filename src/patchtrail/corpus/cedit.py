"""Function- and struct-level edits of kernel-style C text.

The demo history interleaves scripted patches (the seed series) with hundreds of random
noise patches touching the same files. If the scripted patches were written as fixed line
edits, any noise change would break them. Locating code by function or struct instead
(kernel style: a definition starts at column 0 and ends at the first `}` / `};` at column
0) keeps every edit valid whatever noise landed before it, while the noise never edits
inside the functions and structs the scripted patches own.

Every helper raises `EditError` when its anchor is missing or ambiguous: a silent no-op
would produce a commit whose diff does not say what its message claims.
"""

from __future__ import annotations

import re

__all__ = [
    "EditError",
    "find_function",
    "function_names",
    "struct_names",
    "replace_once",
    "replace_in",
    "insert_after",
    "insert_before",
    "remove_function",
    "add_struct_field",
    "rename_symbol",
]


class EditError(ValueError):
    """An anchor the edit relies on is missing or ambiguous."""


_DEF = r"^(?![ \t#/*}}])[^\n;{{}}()=]*?\b{name}\([^;{{}}]*?\)\n\{{\n"
_NAME = re.compile(r"^(?![ \t#/*}])[^\n;{}()=]*?\b(\w+)\([^;{}]*?\)\n\{\n", re.M)
_STRUCT = re.compile(r"^struct (\w+) \{\n", re.M)


def _leading_comment(text: str, start: int) -> int:
    """Start of a `/* ... */` block that sits directly above position `start` (else start)."""
    before = text[:start]
    if not before.endswith("*/\n"):
        return start
    at = before.rfind("\n/*")
    if at >= 0:
        return at + 1
    return 0 if before.startswith("/*") else start


def find_function(text: str, name: str, with_comment: bool = False) -> tuple[int, int]:
    """The span of function `name`'s definition: signature through the `}` line's newline."""
    matches = list(re.finditer(_DEF.format(name=re.escape(name)), text, re.M))
    if len(matches) != 1:
        raise EditError(f"function {name}(): {len(matches)} definitions")
    start = matches[0].start()
    end = text.find("\n}\n", matches[0].end() - 2)
    if end < 0:
        raise EditError(f"function {name}(): no closing brace")
    end += 3
    # An EXPORT_SYMBOL line belongs to the function it follows.
    export = re.match(r"EXPORT_SYMBOL(?:_GPL)?\(\w+\);\n", text[end:])
    if export:
        end += export.end()
    return (_leading_comment(text, start) if with_comment else start), end


def function_names(text: str) -> list[str]:
    """Names of the functions defined in `text`, in order."""
    return [m.group(1) for m in _NAME.finditer(text)]


def struct_names(text: str) -> list[str]:
    """Names of the `struct x {` definitions in `text`, in order."""
    return [m.group(1) for m in _STRUCT.finditer(text)]


def replace_once(text: str, old: str, new: str) -> str:
    """Replace the single occurrence of `old`."""
    count = text.count(old)
    if count != 1:
        raise EditError(f"{count} occurrences of {old[:60]!r}")
    return text.replace(old, new)


def _block(text: str, header: str) -> tuple[int, int]:
    """The span of a block that starts with the line `header` and ends at `};` or `}`."""
    count = text.count(header)
    if count != 1:
        raise EditError(f"{count} blocks starting {header!r}")
    start = text.index(header)
    close = re.compile(r"^\};?\n", re.M).search(text, start)
    if close is None:
        raise EditError(f"block {header!r} does not close")
    return start, close.end()


def replace_in(text: str, where: str, old: str, new: str) -> str:
    """Replace `old` (exactly once) inside function `where`, or inside the block whose
    first line is `where` when it ends with `{` (a struct or an initializer)."""
    if where.endswith("{"):
        start, end = _block(text, where)
    else:
        start, end = find_function(text, where)
    return text[:start] + replace_once(text[start:end], old, new) + text[end:]


def insert_after(text: str, name: str, code: str) -> str:
    """Insert `code` (whole definitions) after function `name`, separated by a blank line."""
    _, end = find_function(text, name)
    return text[:end] + "\n" + code.rstrip("\n") + "\n" + text[end:]


def insert_before(text: str, name: str, code: str) -> str:
    """Insert `code` before function `name` and the comment directly above it."""
    start, _ = find_function(text, name, with_comment=True)
    return text[:start] + code.rstrip("\n") + "\n\n" + text[start:]


def remove_function(text: str, name: str) -> str:
    """Delete function `name`, its comment and one blank line that separated it."""
    start, end = find_function(text, name, with_comment=True)
    if text[end:end + 1] == "\n":
        end += 1
    elif text[start - 2:start] == "\n\n":
        start -= 1
    return text[:start] + text[end:]


def add_struct_field(text: str, struct: str, field: str, after: str | None = None) -> str:
    """Add a field line to `struct <struct> {`: after the line containing `after`, else last."""
    start, end = _block(text, f"struct {struct} {{\n")
    body = text[start:end]
    line = field if field.endswith("\n") else field + "\n"
    if after is None:
        close = body.rfind("};")
        body = body[:close] + line + body[close:]
    else:
        at = body.find(after)
        if at < 0 or body.count(after) != 1:
            raise EditError(f"struct {struct}: anchor {after!r} not unique")
        eol = body.index("\n", at) + 1
        body = body[:eol] + line + body[eol:]
    return text[:start] + body + text[end:]


def rename_symbol(text: str, old: str, new: str) -> str:
    """Rename an identifier everywhere in `text` (whole words only)."""
    renamed, count = re.subn(rf"\b{re.escape(old)}\b", new, text)
    if count == 0:
        raise EditError(f"symbol {old} not found")
    return renamed
