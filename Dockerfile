# Production image of the Partner Portal: gunicorn serving partnerportal.wsgi as a non-root
# user; the same image runs the Celery worker and beat (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=partnerportal.settings.production

WORKDIR /app

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin app

# Dependencies first, in their own layer: rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
       > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself (runtime dependencies only, no dev extras). The code runs from /app
# (PYTHONPATH), where the templates and static files live next to it.
COPY . .
# collectstatic needs the production settings to load, and they insist on a secret key:
# a throwaway one used only for this build step, never at runtime.
RUN pip install . \
    && DJANGO_SECRET_KEY="build-only-collectstatic-key-never-used-at-runtime-0123456789" \
       python manage.py collectstatic --noinput \
    && mkdir -p /app/var \
    && chown app:app /app/var

USER app
EXPOSE 8000

# WEB_CONCURRENCY sets gunicorn's worker count (gunicorn reads it itself). Sync workers serve
# one request at a time and keep one persistent database connection each (production
# settings, CONN_MAX_AGE 60): the web tier holds at most WEB_CONCURRENCY connections.
CMD ["gunicorn", "partnerportal.wsgi:application", "--bind", "0.0.0.0:8000", "--worker-class", "sync", "--access-logfile", "-"]
