"""Configuration as data: read a YAML file and build typed dataclasses from its mappings, with errors that
name the file, the section and the offending keys. Shared by the tokenizer and language-model configs."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


def read_yaml(path: str | Path, error_type: type[ValueError], what: str = "config") -> Any:
    """The parsed content of a YAML file; a missing file or invalid YAML raises `error_type` naming the file."""
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text())
    except (FileNotFoundError, IsADirectoryError) as error:
        raise error_type(f"{path}: {what} not found") from error
    except yaml.YAMLError as error:
        raise error_type(f"{path}: not valid YAML ({error})") from error


def build_dataclass(kind: type[T], values: Any, source: str, error_type: type[ValueError],
                    what: str = "settings") -> T:
    """`kind(**values)` for a dataclass, refusing non-mappings and unknown keys with `error_type` naming `source`."""
    if not isinstance(values, dict):
        raise error_type(f"{source}: expected a mapping of {what}, got {type(values).__name__}")
    known = {f.name for f in dataclasses.fields(kind)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise error_type(f"{source}: unknown {what} {unknown}; known: {sorted(known)}")
    try:
        return kind(**values)
    except (TypeError, ValueError) as error:  # wrong types, or the dataclass's own validation
        raise error_type(f"{source}: {error}") from error
