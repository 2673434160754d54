"""Off-site backups to S3-compatible storage: the backup destination object."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from jack_host.interfaces import BackupDestination, ComponentHealth, NotConfiguredError, StoredBackup

if TYPE_CHECKING:
    from jack_host.app import JackApp


class S3Destination(BackupDestination):
    name = "s3"

    def __init__(self, app: JackApp):
        self.app = app

    async def health(self) -> ComponentHealth:
        return ComponentHealth.not_configured("S3 backups are not available yet in this version")

    def _refuse(self) -> NotConfiguredError:
        return NotConfiguredError("backup destination 's3' is not available yet in this version")

    def store(self, path: Path, key: str, metadata: dict[str, str]) -> StoredBackup:
        raise self._refuse()

    def list(self) -> list[StoredBackup]:
        raise self._refuse()

    def fetch(self, key: str, target: Path) -> Path:
        raise self._refuse()

    def delete(self, key: str) -> None:
        raise self._refuse()
