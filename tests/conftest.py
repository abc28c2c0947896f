from __future__ import annotations

import os

import pytest
from django.test import Client

from portal.models import Role
from tests import factories

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# @pytest.mark.needs("chromium", ...): missing system packages are listed at the end of every run.
pytest_plugins = ["tests.sysdeps_plugin"]


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    """Tests run Celery tasks in-process unless a test asks for the real worker."""
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }


@pytest.fixture(autouse=True)
def _chinese_first():
    """Every test starts in the portal's default language, whatever an earlier request activated."""
    from django.conf import settings as django_settings
    from django.utils import translation

    with translation.override(django_settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def _fresh_directory_cache():
    """Cached public directory pages never outlive a test: each test's rows are rolled back."""
    from institutions.directory_cache import forget_pages

    forget_pages()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def school(db):
    return factories.school()


@pytest.fixture
def other_school(db):
    """A school in another district than ``school``."""
    return factories.school(district_code="310112")


@pytest.fixture
def people(db, school):
    """One user per role; the school user works at ``school``, the district officer in its district."""
    out = {
        role: factories.user(role) for role in Role.values if role not in {Role.SCHOOL_STAFF, Role.DISTRICT_HR_OFFICER}
    }
    out[Role.SCHOOL_STAFF] = factories.user(Role.SCHOOL_STAFF, organisation=school.organisation)
    bureau = factories.organisation("district_hr", district_code=school.organisation.district.code)
    out[Role.DISTRICT_HR_OFFICER] = factories.user(Role.DISTRICT_HR_OFFICER, organisation=bureau)
    return out


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c
