"""Whole JSON files: reading the bytes, a leading UTF-8 byte-order mark, the top level that must be an object,
and duplicate top-level keys found without recursion (whatever the nesting depth). Every problem is an
`InputFileError` of one line naming the file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import orjson

from ..errors import UserError


class InputFileError(UserError):
    """A whole-file problem (missing, unreadable, empty, not JSON, top level not an object); one line."""


def type_name(value: Any) -> str:
    """The JSON name of a decoded value's type: 'null', 'boolean', 'string', 'number', 'integer', ..."""
    return {type(None): "null", bool: "boolean", str: "string", float: "number", int: "integer",
            list: "list", dict: "object"}.get(type(value), type(value).__name__)


def kind(value: Any) -> str:
    """The JSON kind of `value` with its article: 'an object', 'a list', 'null', ..."""
    name = type_name(value)
    return name if value is None else ("an " if name[0] in "aeiou" else "a ") + name


def read_bytes(path: str | Path) -> bytes:
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise InputFileError(f"{p}: file not found") from None
    except IsADirectoryError:
        raise InputFileError(f"{p}: is a directory, not a file") from None
    except OSError as e:
        raise InputFileError(f"{p}: cannot read ({e.strerror or e})") from None


UTF8_BOM = b"\xef\xbb\xbf"


def without_bom(raw: bytes) -> bytes:
    """`raw` without a leading UTF-8 byte-order mark (editors on Windows write one; JSON parsers refuse it)."""
    return raw[len(UTF8_BOM):] if raw.startswith(UTF8_BOM) else raw


def parse_json_object(raw: bytes, name: str) -> dict[str, Any]:
    """Bytes -> top-level JSON object; InputFileError (one line naming `name`) on whole-file problems."""
    raw = without_bom(raw)
    if not raw.strip():
        raise InputFileError(f"{name}: file is empty")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        data = _strict_json_fallback(raw)
        if data is None:
            msg = " ".join(str(e).split())
            raise InputFileError(f"{name}: not valid JSON ({msg})") from None
    if not isinstance(data, dict):
        raise InputFileError(f"{name}: top level is {kind(data)}, expected an object of task ids")
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _strict_json_fallback(raw: bytes) -> Any:
    """What the standard parser makes of valid JSON that orjson refuses (a number beyond a double such as
    1e400, which becomes inf; a lone surrogate escape such as "\\ud800"), so one bad value costs its task
    only; None when the text is not JSON (NaN and Infinity literals included) or nests too deep."""
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None


def read_json_object(path: str | Path) -> dict[str, Any]:
    """Read a file whose top level must be a JSON object; InputFileError on whole-file problems."""
    return parse_json_object(read_bytes(path), str(path))


_STRING_BODY = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # the rest of a JSON string after its '"'
_AT_TOP = re.compile(r'[\[\]{}",]')  # what matters between the values of the top-level object
_INSIDE = re.compile(r'[\[\]{}"]')  # what matters inside a value: only nesting and strings


def duplicate_top_level_keys(raw: bytes) -> list[str]:
    """Keys that occur more than once in the top-level object of valid JSON `raw`, in order found.

    One flat scan (no recursion, whatever the nesting depth): counts brackets, skips strings, and reads a key
    at depth 1 after the opening brace or a comma."""
    text = without_bom(raw).decode("utf-8")
    seen: set[str] = set()
    dups: list[str] = []
    depth, expect_key, i = 0, False, 0
    while True:
        m = (_AT_TOP if depth <= 1 else _INSIDE).search(text, i)
        if m is None:
            return dups
        c, i = m.group(), m.end()
        if c == '"':
            body = _STRING_BODY.match(text, i)
            assert body is not None, "unterminated string: duplicate_top_level_keys needs valid JSON"
            end = body.end()
            if expect_key:
                key = json.loads(text[i - 1:end])  # the string literal, quotes included
                if key in seen and key not in dups:
                    dups.append(key)
                seen.add(key)
                expect_key = False
            i = end
        elif c in "[{":
            depth += 1
            expect_key = depth == 1 and c == "{"
        elif c in "]}":
            depth -= 1
        else:  # a comma at depth 1
            expect_key = depth == 1
