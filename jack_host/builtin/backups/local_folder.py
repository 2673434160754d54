"""The built-in backup destination: a folder on this server (``BACKUP_DIR``)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jack_host.contract.interfaces import BackupDestination, BackupError, ComponentHealth, StoredBackup
from jack_host.db.engine import sqlite_path
from jack_host.kit.backup_files import (
    copy_with_checksum,
    fsync_dir,
    is_backup_key,
    parse_iso,
    read_sidecar,
    sidecar_path,
)

if TYPE_CHECKING:
    from jack_host.contract.app import App


def backup_folder(settings: Any) -> Path:
    """``BACKUP_DIR``, or a ``backups`` folder beside the database (not the current folder)."""
    configured = settings.get("BACKUP_DIR")
    if configured:
        return Path(str(configured)).expanduser()
    return sqlite_path(settings).parent / "backups"


def usable_folder(folder: Path) -> Path:
    """``folder``, created if missing; a clear :class:`BackupError` if it cannot hold backups."""
    if folder.exists() and not folder.is_dir():
        raise BackupError(f"BACKUP_DIR {folder} is a file, not a folder: point BACKUP_DIR at a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create the backup folder {folder}: {exc.strerror}") from None
    return folder


class LocalFolderDestination(BackupDestination):
    """Backups in ``BACKUP_DIR``, each with a ``.json`` sidecar holding its checksum and revision."""

    name = "local"

    def __init__(self, app: App):
        self.app = app

    @property
    def folder(self) -> Path:
        return backup_folder(self.app.settings)

    async def health(self) -> ComponentHealth:
        folder = self.folder
        if folder.exists() and not folder.is_dir():
            return ComponentHealth.error(f"{folder} is a file, not a folder")
        probe = folder if folder.exists() else folder.parent
        if not os.access(probe if probe.exists() else Path("."), os.W_OK):
            return ComponentHealth.error(f"{folder} is not writable")
        count = len(list(folder.glob("jack-*.db"))) if folder.exists() else 0
        return ComponentHealth.connected(f"{count} backup(s) in {folder}")

    def store(self, path: Path, key: str, metadata: dict[str, str]) -> StoredBackup:
        usable_folder(self.folder)
        target = self.folder / key
        partial = self.folder / f".{key}.partial"
        checksum = copy_with_checksum(path, partial)
        if metadata.get("sha256") and metadata["sha256"] != checksum:
            partial.unlink(missing_ok=True)
            raise BackupError(f"copy of {key} in {self.folder} does not match the backup's checksum")
        os.replace(partial, target)
        sidecar_path(target).write_text(json.dumps({**metadata, "sha256": checksum}, indent=2))
        fsync_dir(self.folder)
        return self._describe(target)

    def _describe(self, path: Path) -> StoredBackup:
        meta = read_sidecar(path)
        stat = path.stat()
        created = parse_iso(meta.get("created_at")) or dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)
        return StoredBackup(
            destination=self.name,
            key=path.name,
            size=stat.st_size,
            created_at=created,
            location=str(path),
            checksum=meta.get("sha256"),
            metadata={k: str(v) for k, v in meta.items()},
        )

    def list(self) -> list[StoredBackup]:
        if self.folder.exists() and not self.folder.is_dir():
            raise BackupError(f"BACKUP_DIR {self.folder} is a file, not a folder: point BACKUP_DIR at a folder")
        if not self.folder.is_dir():
            return []
        found = [self._describe(p) for p in self.folder.iterdir() if p.is_file() and is_backup_key(p.name)]
        return sorted(found, key=lambda b: b.created_at, reverse=True)

    def fetch(self, key: str, target: Path) -> Path:
        source = self.folder / key
        if not source.is_file():
            raise BackupError(f"no backup {key} in {self.folder}")
        expected = read_sidecar(source).get("sha256")
        target.parent.mkdir(parents=True, exist_ok=True)
        actual = copy_with_checksum(source, target)
        if expected and actual != expected:
            target.unlink(missing_ok=True)
            raise BackupError(f"{source} is damaged: its checksum does not match the one recorded when it was made")
        return target

    def delete(self, key: str) -> None:
        path = self.folder / key
        path.unlink(missing_ok=True)
        sidecar_path(path).unlink(missing_ok=True)
