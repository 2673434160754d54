"""Helpers for backup destinations: the backup file names, checksums and metadata times.

A destination plugin (``jack_register_backup_destinations``) uses these so its copies are named,
checked and dated exactly as the host's own local folder does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

#: ``progress(stage, done, total)``: stage is ``snapshot``, ``checksum``, ``copy``, ``upload``...
Progress = Callable[[str, int, int], None]

KEY_PREFIX = "jack-"
KEY_SUFFIX = ".db"
CHUNK = 8 * 1024 * 1024


def noop_progress(stage: str, done: int, total: int) -> None:
    """The default progress callback: say nothing."""


def is_backup_key(name: str) -> bool:
    """True for a backup file name made by ``jack backup`` (``jack-<UTC time>[-reason].db``)."""
    return name.startswith(KEY_PREFIX) and name.endswith(KEY_SUFFIX)


def sidecar_path(path: Path) -> Path:
    """Where the metadata of a backup file is kept next to it (``<file>.json``)."""
    return path.with_name(path.name + ".json")


def read_sidecar(path: Path) -> dict[str, str]:
    try:
        return json.loads(sidecar_path(path).read_text())
    except (OSError, ValueError):
        return {}


def copy_with_checksum(source: Path, target: Path, progress: Progress = noop_progress, stage: str = "copy") -> str:
    """Copy ``source`` to ``target`` (fsynced) and return the sha256 of the bytes copied."""
    digest = hashlib.sha256()
    total = source.stat().st_size
    done = 0
    with source.open("rb") as reader, target.open("wb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            done += len(chunk)
            progress(stage, done, total)
        writer.flush()
        os.fsync(writer.fileno())
    return digest.hexdigest()


def sha256_file(path: Path, progress: Progress = noop_progress) -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            progress("checksum", done, total)
    return digest.hexdigest()


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def parse_iso(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return _aware(dt.datetime.fromisoformat(value))
    except ValueError:
        return None
