"""Read a YAML config file into a dict, with one-line errors that name the file and line.

`yaml.safe_load` alone lets three things through that a user can cause: a file that is
not UTF-8 (a `UnicodeDecodeError` traceback), a key given twice (the last one silently
wins, so `train:` written twice loses the first section), and multi-line error messages
(the CLI prints errors on one line). Tags such as `!!python/object` are never
constructed (safe loader): they are refused with the file and line.

Example:
    >>> raw = read_yaml_mapping("configs/digits_simclr.yaml")
    >>> sorted(raw)[:2]
    ['augment', 'data']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode

from contrastkit.errors import UserError


class _DuplicateKey(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class _UniqueKeyLoader(yaml.SafeLoader):
    """The safe loader, refusing a mapping that repeats a key."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: let the base class say so
                break
            if first is not None:
                raise _DuplicateKey(f"key {key!r} given twice (lines {first} and {line})", line)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _one_line(err: yaml.YAMLError) -> str:
    """A YAML error as `line L, column C: problem (context)` on one line."""
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    context = getattr(err, "context", None)
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    context_mark = getattr(err, "context_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    text = f"{where}{problem}"
    if context:
        since = ""
        if context_mark is not None and context_mark is not mark:
            line, column = context_mark.line + 1, context_mark.column + 1
            since = f" that starts at line {line}, column {column}"
        text += f" ({context}{since})"
    return " ".join(text.split())


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """The top-level mapping of the YAML file at `path` ({} for an empty file).

    Args:
        path: a UTF-8 YAML file (a byte-order mark is allowed) whose top level is a
            mapping of sections.

    Returns:
        The mapping, as plain dicts, lists, strings, numbers, booleans and None.

    Raises:
        UserError: on one line, naming the file (and the line where one applies): the
            file is missing or unreadable, is not UTF-8, is not valid YAML, carries a tag
            such as `!!python/object`, repeats a key, or its top level is not a mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"config file not found: {path}")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise UserError(f"{path}: cannot read the config ({err.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise UserError(
            f"{path}: line {line}: not UTF-8 text (byte 0x{data[err.start]:02x}); "
            "save the config as UTF-8"
        ) from None
    try:
        loaded = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a safe loader)
    except _DuplicateKey as err:
        raise UserError(f"{path}: line {err.line}: {err.message}") from None
    except yaml.constructor.ConstructorError as err:
        if "tag" in str(err.problem):
            mark = err.problem_mark
            at = f"line {mark.line + 1}: " if mark is not None else ""
            raise UserError(
                f"{path}: {at}YAML tags are not allowed in a config "
                f"({' '.join(str(err.problem).split())})"
            ) from None
        raise UserError(f"{path}: not valid YAML: {_one_line(err)}") from None
    except yaml.YAMLError as err:
        raise UserError(f"{path}: not valid YAML: {_one_line(err)}") from None
    except RecursionError:
        raise UserError(f"{path}: nested too deeply to be a config") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise UserError(
            f"{path}: expected a mapping of sections at the top level (got {_kind(loaded)})"
        )
    return loaded
