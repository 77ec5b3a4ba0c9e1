# One image, two kinds of process (docs/operations.md is the runbook). `.env` comes from .env.example:
#
#   web     docker run -p 8000:8000 --env-file .env videogen
#           (the default CMD: gunicorn running uvicorn workers (ASGI) serving the API, admin, the
#           live-update streams, /metrics, /healthz, /readyz)
#   worker  docker run --env-file .env videogen python manage.py qcluster
#           (django-q2 task workers: storyboard, render, exports; run as many as you need)
#   once    docker run --env-file .env videogen python manage.py migrate
#           (before starting a new release; also: seed_demo, createsuperuser, cost_report)
#
# Web and workers must share DATABASE_URL, REDIS_URL and the media storage: across hosts an
# S3-compatible bucket (AWS_STORAGE_BUCKET_NAME + AWS_*), on one host also the same volume at
# /app/var/media. Scratch files (SCRATCH_DIR, /app/var/work) stay in each container. The
# processes of one host share PROMETHEUS_MULTIPROC_DIR (/app/var/prometheus, a volume).
# docker-compose.yml runs all of it (README.md, "Running at scale"). Set SECRET_KEY and
# ALLOWED_HOSTS in production. FFmpeg comes with the imageio-ffmpeg wheel. The build context
# is this repository alone.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var

WORKDIR /app

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files are collected at build time (served by WhiteNoise); var/ holds scratch files,
# metrics, local media and, in the embedded configuration, the SQLite database: it must be
# writable by the app user (a named volume mounted on one of these folders copies its owner).
RUN python manage.py collectstatic --noinput -v0 \
    && useradd --create-home --uid 10001 app \
    && mkdir -p /app/var/media /app/var/work /app/var/prometheus \
    && chown -R app:app /app/var

USER app
EXPOSE 8000

# Exec form: gunicorn is PID 1 and receives SIGTERM for a graceful shutdown. ASGI (uvicorn workers): an
# open live-update stream is a coroutine, not a thread, so streams do not starve the API; sync views run in
# threads. On shutdown open streams are closed after --graceful-timeout and EventSource reconnects.
CMD ["gunicorn", "config.asgi:application", "--worker-class", "uvicorn_worker.UvicornWorker", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--graceful-timeout", "20"]
