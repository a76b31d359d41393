# Image for the workbench web app: gunicorn on port 8000, static files served by WhiteNoise.
# Configured entirely by environment variables at run time (see workbench/settings.py and
# docker-compose.yml); SECRET_KEY and DATABASE_URL are required in practice.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Unprivileged user that runs the app; the code itself stays owned by root (read-only to it).
# The home directory is where gunicorn puts its control socket (~/.gunicorn/).
RUN groupadd --system app \
    && useradd --system --gid app --create-home --home-dir /home/app app

WORKDIR /app

COPY . .

# Every dependency has a manylinux wheel (psycopg[binary], argon2-cffi), so no compiler needed.
# The app runs from /app (manage.py and gunicorn both put the working directory first on
# sys.path), which settings.BASE_DIR relies on to find templates/ and static/.
RUN pip install . \
    && rm -rf build *.egg-info

# Hashed, compressed static files for WhiteNoise. The SECRET_KEY here is a throwaway that exists
# only for this step (settings refuse to load without one when DEBUG is off); it is not kept in
# the image's environment.
RUN DEBUG=0 SECRET_KEY=collectstatic-build-only-throwaway-key-not-used-at-runtime \
    python manage.py collectstatic --noinput

# Uploads waiting for their import preview to be confirmed live here (a volume in compose).
RUN mkdir -p /var/lib/workbench/media && chown -R app:app /var/lib/workbench
ENV MEDIA_ROOT=/var/lib/workbench/media

USER app

EXPOSE 8000

# gunicorn.conf.py: workers recycled after GUNICORN_MAX_REQUESTS (with jitter), timeouts.
CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn --config gunicorn.conf.py workbench.wsgi:application"]
