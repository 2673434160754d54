"""Hook implementations of the backup_s3 plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from jack_backup_s3.destination import S3Destination
from jack_host import hookimpl
from jack_host.config.settings import Setting
from jack_host.contract.interfaces import BackupDestination

if TYPE_CHECKING:
    from jack_host.contract.app import App


@hookimpl
def jack_settings_validators() -> list[Setting]:
    return [
        Setting("S3_BUCKET", str, "", "bucket for off-site backups; unset turns the S3 copy off"),
        Setting("S3_PREFIX", str, "jack/", "folder inside the bucket"),
        Setting("S3_ENDPOINT_URL", str, "", "for MinIO, Cloudflare R2 or Backblaze B2, e.g. https://<account>.r2.cloudflarestorage.com"),
        Setting("S3_REGION", str, "", "bucket region (default: AWS_DEFAULT_REGION, else us-east-1)"),
        Setting("S3_SSE", str, "", "server-side encryption", choices=("", "AES256", "aws:kms")),
        Setting("S3_SSE_KMS_KEY_ID", str, "", "KMS key for S3_SSE=aws:kms (default: the bucket's)"),
        Setting("S3_MULTIPART_THRESHOLD_MB", int, 64, "files larger than this upload in parts", minimum=5),
        Setting("S3_MULTIPART_CHUNK_MB", int, 64, "size of each uploaded part", minimum=5),
        Setting("S3_CONNECT_TIMEOUT", float, 5.0, "seconds to wait for the S3 endpoint", minimum=0.1),
        Setting("AWS_ACCESS_KEY_ID", str, "", "S3 credentials; unset uses the standard AWS chain", secret=True),
        Setting("AWS_SECRET_ACCESS_KEY", str, "", "S3 credentials; unset uses the standard AWS chain", secret=True),
    ]


@hookimpl
def jack_register_backup_destinations(register: Callable[[BackupDestination], None], app: App) -> None:
    register(S3Destination(app))
