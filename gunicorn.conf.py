"""gunicorn settings for the workbench (``gunicorn --config gunicorn.conf.py``; the Docker
image runs it so). Every value can be changed by an environment variable.

Why these:
- Workers are recycled after ``GUNICORN_MAX_REQUESTS`` requests, each after a different
  number (``GUNICORN_MAX_REQUESTS_JITTER``) so they do not all restart at once: whatever a
  worker's heap grew to while parsing a large upload is given back to the system.
- A worker silent for ``GUNICORN_TIMEOUT`` seconds is killed and replaced, so a request stuck
  in a parse cannot hold a worker for good. Sync workers read the upload themselves: 120 s lets
  the largest upload (UPLOAD_MAX_REQUEST_BYTES, 100 MB) arrive at about 8 Mbit/s. Behind a
  proxy that buffers request bodies (nginx does by default) it can be lower.
"""

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND", "").strip() or "0.0.0.0:8000"
workers = _int("WEB_CONCURRENCY", 3)
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)
timeout = _int("GUNICORN_TIMEOUT", 120)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = 5
# The heartbeat file on tmpfs: on a container's overlay disk a slow write can look like a hang.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "").strip() or "info"
