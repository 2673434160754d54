# Jack The Butler: the host and the seven bundled plugins in one image.
#   docker build -t jackthebutler/jack:latest .
#   docker run -d --name jack --restart unless-stopped -p 3000:3000 -v jack-data:/app/data jackthebutler/jack:latest
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# sqlite3 is for the operators: `docker exec jack sqlite3 /app/data/jack.db ".backup ..."`.
# Debian's package versions change under a fixed tag, so pinning them would break rebuilds.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends sqlite3 \
 && rm -rf /var/lib/apt/lists/*

# Install from a throw-away source folder so /app holds only data, never code.
WORKDIR /tmp/jack-src
COPY pyproject.toml README.md requirements.lock ./
COPY jack_host ./jack_host
COPY plugins ./plugins
# requirements.lock pins every dependency, so two builds of one commit install the same versions.
RUN pip install --no-cache-dir -c requirements.lock . ./plugins/* \
 && jack plugins list \
 && rm -rf /tmp/jack-src

# A fixed uid so a bind-mounted data folder can be chown'ed to match (chown 10001 /srv/jack-data).
# /app/data is created and owned here so a new named volume starts out writable by jack.
RUN groupadd --system --gid 10001 jack \
 && useradd --system --uid 10001 --gid jack --home-dir /app --shell /usr/sbin/nologin jack \
 && mkdir -p /app/data/backups \
 && chown -R jack:jack /app

WORKDIR /app
# Numeric, so platforms that check for a non-root user (runAsNonRoot) can see it is not root.
USER 10001:10001

ENV PORT=3000 \
    DATABASE_PATH=/app/data/jack.db \
    BACKUP_DIR=/app/data/backups

EXPOSE 3000
VOLUME /app/data

# /health answers 503 when Jack cannot serve (database gone); urlopen raises on any
# non-2xx answer or refused connection, so the check fails exactly then.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '3000'), timeout=5); sys.exit(0 if r.status == 200 else 1)"]

# Checks the database, applies pending migrations, serves; stops gracefully on SIGTERM (docker stop).
CMD ["jack", "serve"]
