"""Hook implementations of the backup_s3 plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from jack_backup_s3.destination import S3Destination
from jack_host import hookimpl
from jack_host.interfaces import BackupDestination

if TYPE_CHECKING:
    from jack_host.app import JackApp


@hookimpl
def jack_register_backup_destinations(register: Callable[[BackupDestination], None], app: JackApp) -> None:
    register(S3Destination(app))
