"""Settings for the HTTP benchmark (bench/web.py): the portal's settings, served by gunicorn
without debug, plus one bare view at /bench/bare/ that goes through the same middleware and
does nothing (the baseline every figure is divided by). Never used outside bench/."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
# Plain http on loopback: no Secure cookies, no redirect; static files without a collected manifest.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "WARNING"}}  # noqa: F405
