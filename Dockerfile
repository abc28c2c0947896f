# syntax=docker/dockerfile:1
# One image for web (gunicorn), worker and beat (Celery); see docker-compose.yml and docs/production.md.

# --- Source without development leftovers -------------------------------------------------
# The build context is the whole checkout; this stage drops what must never ship (the local
# venv, var/ with its SQLite database and private uploads, git history, test artefacts).
FROM python:3.11-slim-bookworm AS source
COPY . /src
RUN cd /src \
    && rm -rf .venv var media staticfiles test-artifacts .git .ci .pytest_cache build *.egg-info \
    && find . -name __pycache__ -prune -exec rm -rf {} +

# --- Runtime -------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=portal.settings \
    PORTAL_VAR_DIR=/var/lib/portal \
    TZ=Asia/Shanghai

# CJK fonts (WeasyPrint prints boxes without them), Pango for WeasyPrint, HarfBuzz's subsetter
# (about 30x faster PDFs), gettext for `compilemessages`, tzdata for Asia/Shanghai.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        fonts-noto-cjk fonts-wqy-microhei libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 \
        gettext tzdata \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin portal

WORKDIR /app

# Dependencies first, so a code change does not reinstall them. pyproject.toml declares no
# packages: `pip install .` installs the dependencies; the code runs from /app (PYTHONPATH).
COPY pyproject.toml ./
RUN pip install . && rm -rf build *.egg-info

COPY --from=source /src/ ./

# Code stays root-owned and read-only for the service user; only PORTAL_VAR_DIR is writable
# (private uploads, collected static files). A fresh named volume takes this ownership.
RUN install -d -o portal -g portal -m 0750 /var/lib/portal /var/lib/portal/private /var/lib/portal/staticfiles

USER portal
EXPOSE 8000

CMD ["gunicorn", "portal.wsgi:application", "-b", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
