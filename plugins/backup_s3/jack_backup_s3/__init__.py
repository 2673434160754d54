"""Off-site backups to S3-compatible storage for Jack The Butler."""

__version__ = "0.1.0"
