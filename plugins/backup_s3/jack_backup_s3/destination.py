"""Off-site backups to S3-compatible storage (AWS S3, MinIO, Cloudflare R2, Backblaze B2)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from botocore.exceptions import BotoCoreError, ClientError

from jack_host.contract.interfaces import BackupDestination, BackupError, ComponentHealth, StoredBackup
from jack_host.kit.backup_files import is_backup_key, parse_iso, sha256_file

if TYPE_CHECKING:
    from boto3.s3.transfer import TransferConfig

    from jack_host.contract.app import App

log = logging.getLogger("jack.backups.s3")
MB = 1024 * 1024
#: Metadata keys travel as x-amz-meta-* headers: lower case, no underscores.
META_KEYS = {"sha256": "sha256", "created_at": "created-at", "revisions": "revisions", "reason": "reason",
             "verified": "verified", "jack_version": "jack-version"}


class S3Destination(BackupDestination):
    """Each backup is one object ``<S3_PREFIX><key>``; its sha256 is stored in the object's metadata."""

    name = "s3"
    required_settings: ClassVar[tuple[str, ...]] = ("S3_BUCKET",)

    def __init__(self, app: App):
        self.app = app
        self._client: Any = None

    # ---- settings
    def _get(self, key: str) -> str:
        return str(self.app.settings.get(key) or "").strip()

    @property
    def bucket(self) -> str:
        return self._get("S3_BUCKET")

    @property
    def prefix(self) -> str:
        prefix = self._get("S3_PREFIX")
        return prefix if not prefix or prefix.endswith("/") else prefix + "/"

    def object_key(self, key: str) -> str:
        return self.prefix + key

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.object_key(key)}"

    def client(self) -> Any:
        """A boto3 client; credentials from AWS_* settings (.env) or the standard AWS chain."""
        if self._client is None:
            # boto3 costs every `jack` command 0.25 s at import: only a command that talks to S3 loads it.
            import boto3
            from botocore.config import Config

            credentials = {
                "aws_access_key_id": self._get("AWS_ACCESS_KEY_ID") or None,
                "aws_secret_access_key": self._get("AWS_SECRET_ACCESS_KEY") or None,
                "aws_session_token": self._get("AWS_SESSION_TOKEN") or None,
            }
            self._client = boto3.session.Session().client(
                "s3",
                endpoint_url=self._get("S3_ENDPOINT_URL") or None,
                region_name=self._get("S3_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
                config=Config(
                    connect_timeout=float(self.app.settings.get("S3_CONNECT_TIMEOUT") or 5),
                    read_timeout=60,
                    retries={"max_attempts": 3, "mode": "standard"},
                ),
                **{k: v for k, v in credentials.items() if v},
            )
        return self._client

    def transfer_config(self) -> TransferConfig:
        from boto3.s3.transfer import TransferConfig  # boto3 off the start-up path, as in client()

        return TransferConfig(
            multipart_threshold=int(self.app.settings.get("S3_MULTIPART_THRESHOLD_MB") or 64) * MB,
            multipart_chunksize=int(self.app.settings.get("S3_MULTIPART_CHUNK_MB") or 64) * MB,
        )

    def encryption_args(self) -> dict[str, str]:
        sse = self._get("S3_SSE")
        if not sse:
            return {}
        args = {"ServerSideEncryption": sse}
        if sse == "aws:kms" and self._get("S3_SSE_KMS_KEY_ID"):
            args["SSEKMSKeyId"] = self._get("S3_SSE_KMS_KEY_ID")
        return args

    def _explain(self, exc: Exception) -> BackupError:
        if isinstance(exc, ClientError):
            code = exc.response.get("Error", {}).get("Code", "?")
            hint = {
                "NoSuchBucket": f"bucket {self.bucket} does not exist",
                "InvalidAccessKeyId": "AWS_ACCESS_KEY_ID is not known to the storage provider",
                "SignatureDoesNotMatch": "AWS_SECRET_ACCESS_KEY is wrong",
                "AccessDenied": "the credentials may not use this bucket",
                "403": "the credentials may not use this bucket",
                "404": f"bucket {self.bucket} does not exist",
            }.get(code, str(exc))
            return BackupError(f"S3 {code}: {hint}")
        return BackupError(f"S3 unreachable at {self._get('S3_ENDPOINT_URL') or 'AWS'}: {exc}")

    # ---- component
    async def health(self) -> ComponentHealth:
        if not self.bucket:
            return ComponentHealth.not_configured("set S3_BUCKET (and S3_ENDPOINT_URL for MinIO, R2 or B2)")
        try:
            await asyncio.to_thread(lambda: self.client().head_bucket(Bucket=self.bucket))
        except (BotoCoreError, ClientError) as exc:
            return ComponentHealth.error(str(self._explain(exc)))
        return ComponentHealth.connected(f"bucket {self.bucket}, prefix {self.prefix or '(none)'}")

    # ---- backup destination
    def store(self, path: Path, key: str, metadata: dict[str, str]) -> StoredBackup:
        checksum = metadata.get("sha256") or sha256_file(path)
        meta = {META_KEYS[k]: str(v) for k, v in {**metadata, "sha256": checksum}.items() if k in META_KEYS}
        try:
            self.client().upload_file(
                str(path),
                self.bucket,
                self.object_key(key),
                ExtraArgs={"Metadata": meta, **self.encryption_args()},
                Config=self.transfer_config(),
            )
            head = self.client().head_object(Bucket=self.bucket, Key=self.object_key(key))
        except (BotoCoreError, ClientError) as exc:
            raise self._explain(exc) from None
        if head["ContentLength"] != path.stat().st_size:
            raise BackupError(f"S3 holds {head['ContentLength']} bytes for {key}, expected {path.stat().st_size}")
        return self._describe(key, head)

    def _describe(self, key: str, head: dict[str, Any]) -> StoredBackup:
        meta = {k.lower(): v for k, v in head.get("Metadata", {}).items()}
        created = parse_iso(meta.get("created-at")) or head["LastModified"].astimezone(dt.UTC)
        return StoredBackup(
            destination=self.name,
            key=key,
            size=int(head["ContentLength"]),
            created_at=created,
            location=self.location(key),
            checksum=meta.get("sha256"),
            metadata={name: meta[header] for name, header in META_KEYS.items() if header in meta},
        )

    def list(self) -> list[StoredBackup]:
        found = []
        try:
            pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"][len(self.prefix):]
                    if "/" in key or not is_backup_key(key):
                        continue
                    found.append(self._describe(key, self.client().head_object(Bucket=self.bucket, Key=item["Key"])))
        except (BotoCoreError, ClientError) as exc:
            raise self._explain(exc) from None
        return sorted(found, key=lambda b: b.created_at, reverse=True)

    def fetch(self, key: str, target: Path) -> Path:
        partial = target.with_name(target.name + ".partial")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            head = self.client().head_object(Bucket=self.bucket, Key=self.object_key(key))
            self.client().download_file(self.bucket, self.object_key(key), str(partial), Config=self.transfer_config())
        except (BotoCoreError, ClientError) as exc:
            partial.unlink(missing_ok=True)
            raise self._explain(exc) from None
        expected = {k.lower(): v for k, v in head.get("Metadata", {}).items()}.get("sha256")
        if not expected:
            partial.unlink(missing_ok=True)
            raise BackupError(f"{self.location(key)} has no sha256 in its metadata: it was not made by jack backup")
        if sha256_file(partial) != expected:
            partial.unlink(missing_ok=True)
            raise BackupError(f"{self.location(key)} is damaged: its checksum does not match the one recorded at upload")
        os.replace(partial, target)
        return target

    def delete(self, key: str) -> None:
        try:
            self.client().delete_object(Bucket=self.bucket, Key=self.object_key(key))
        except (BotoCoreError, ClientError) as exc:
            raise self._explain(exc) from None
