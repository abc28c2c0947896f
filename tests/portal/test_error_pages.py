"""The portal's own error pages: 400, 403, 404, 405, 409 and 500, in Chinese and English,
in the portal's layout, with a way home; and DEBUG-off settings serving the manifest storage."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client, RequestFactory
from django.urls import reverse

from portal import errors
from portal.access import RolesRequired, roles_required
from portal.models import Role
from tests import factories

ROOT = Path(django_settings.BASE_DIR)
HEADINGS = {
    "zh-hans": {
        400: "请求有误",
        403: "无权访问此页面",
        404: "页面不存在",
        405: "不支持的请求方式",
        409: "当前状态下不能进行此操作",
        500: "服务器内部错误",
    },
    "en": {
        400: "Bad request",
        403: "You may not open this page",
        404: "Page not found",
        405: "Method not allowed",
        409: "Not possible in the current state",
        500: "Server error",
    },
}
HOME = {"zh-hans": "返回首页", "en": "Back to the home page"}
LANGUAGES = ["zh-hans", "en"]


def in_language(client: Client, language: str) -> Client:
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    return client


def assert_error_page(html: str, status: int, language: str) -> None:
    assert f'data-status="{status}"' in html
    assert re.search(rf"<h1[^>]*>\s*{re.escape(HEADINGS[language][status])}\s*</h1>", html), html[:2000]
    assert re.search(rf'href="/"[^>]*data-testid="error-home">{re.escape(HOME[language])}<', html)
    assert 'class="navbar' in html and "<footer" in html  # the portal's own layout
    assert f'lang="{"zh-CN" if language == "zh-hans" else "en"}"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_missing_page_is_a_404_in_the_portals_layout(language):
    response = in_language(Client(), language).get("/no-such-page/")
    assert response.status_code == 404
    assert_error_page(response.content.decode(), 404, language)


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_page_outside_the_users_roles_is_a_403_naming_the_roles_it_needs(language):
    client = in_language(Client(), language)
    client.force_login(factories.user(Role.DISTRICT_HR_OFFICER))
    response = client.get(reverse("occupation_import"))
    assert response.status_code == 403
    html = response.content.decode()
    assert_error_page(html, 403, language)
    roles = re.search(r'data-testid="required-roles">(.*?)</ul>', html, re.S).group(1)
    needed, held = {"zh-hans": ("系统管理员", "区人社局监管员"), "en": ("System administrator", "")}[language]
    assert re.findall(r"<li>(.*?)</li>", roles) == [needed]
    if held:
        assert held in html


@pytest.mark.django_db
def test_the_403_page_lists_every_role_of_the_decorator():
    @roles_required(Role.CENTRE_REVIEWER, Role.COMMISSION_OFFICER)
    def view(request):
        raise AssertionError("not reached")

    request = RequestFactory().get("/somewhere/")
    request.user = factories.user(Role.SCHOOL_STAFF)
    with pytest.raises(RolesRequired) as refusal:
        view(request)
    response = errors.permission_denied(request, refusal.value)
    html = response.content.decode()
    assert response.status_code == 403
    assert "市职鉴中心审核员" in html and "市教委经办人" in html and "学校评价工作人员" in html


@pytest.mark.django_db
def test_a_plain_permission_denied_gets_the_403_page_without_a_role_list():
    from django.core.exceptions import PermissionDenied

    request = RequestFactory().get("/somewhere/")
    request.user = factories.user(Role.SCHOOL_STAFF)
    response = errors.permission_denied(request, PermissionDenied())
    html = response.content.decode()
    assert response.status_code == 403 and 'data-status="403"' in html
    assert "required-roles" not in html and "请联系本单位系统管理员" in html


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_get_to_a_post_only_address_is_a_405_page_with_its_allow_header(language):
    client = in_language(Client(), language)
    client.force_login(factories.user(Role.SCHOOL_STAFF))
    response = client.get(reverse("notification_read_all"))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert_error_page(response.content.decode(), 405, language)


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_nul_character_is_a_400_page(language):
    response = in_language(Client(), language).get(reverse("directory") + "?q=%00")
    assert response.status_code == 400
    assert_error_page(response.content.decode(), 400, language)


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_generic_409_page_shows_the_problems_or_a_default_explanation(language):
    from django.shortcuts import render
    from django.utils import translation

    request = RequestFactory().get("/")
    request.user = factories.user(Role.SCHOOL_STAFF)
    with translation.override(language):
        html = render(request, "409.html", {"problems": ["甲", "乙"]}, status=409).content.decode()
        default = render(request, "409.html", status=409).content.decode()
    assert_error_page(html, 409, language)
    assert re.findall(r"<li>(.)</li>", html) == ["甲", "乙"]
    assert 'data-testid="refusal"' in default and "<li>" not in default.split('data-testid="refusal"')[1][:200]


def test_the_institutions_refusal_page_extends_the_generic_409():
    source = (ROOT / "institutions" / "templates" / "institutions" / "refused.html").read_text(encoding="utf-8")
    assert source.startswith('{% extends "409.html" %}')


def test_the_500_page_renders_without_a_database_or_a_request():
    # No django_db mark: any query here raises. The page must still be the full layout, not the fallback.
    from django.utils import translation

    for language in LANGUAGES:
        with translation.override(language):
            response = errors.server_error(RequestFactory().get("/"))
        html = response.content.decode()
        assert response.status_code == 500
        assert_error_page(html, 500, language)
        assert str(django_settings.PORTAL_NAME) not in ("", None) and "<title>" in html


def test_the_400_page_renders_without_a_database_or_a_request():
    response = errors.bad_request(RequestFactory().get("/"))
    assert response.status_code == 400
    assert_error_page(response.content.decode(), 400, "zh-hans")


@pytest.mark.django_db
@pytest.mark.urls("tests.portal.error_urls")
def test_an_exception_in_a_view_answers_the_500_page():
    client = Client(raise_request_exception=False)
    client.force_login(factories.user(Role.SCHOOL_STAFF))
    response = client.get("/boom/")
    assert response.status_code == 500
    assert_error_page(response.content.decode(), 500, "zh-hans")


def test_a_broken_template_still_answers_a_plain_500(monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("Missing staticfiles manifest entry")

    monkeypatch.setattr(errors, "render_to_string", broken)
    response = errors.server_error(RequestFactory().get("/"))
    assert response.status_code == 500 and b"<h1>500 " in response.content


# --- DJANGO_DEBUG=0: the manifest storage, after collectstatic --------------------------------

PAGE_SCRIPT = textwrap.dedent(
    """
    import django
    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.test.utils import setup_test_environment
    setup_test_environment()
    assert not settings.DEBUG
    assert settings.STORAGES["staticfiles"]["BACKEND"].endswith("CompressedManifestStaticFilesStorage")
    response = Client().get("/no-such-page/")
    print(response.status_code)
    print(response.content.decode())
    """
)


def debug_off_env(var_dir: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "PORTAL_"))}
    return {
        **base,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "PORTAL_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PYTHONPATH": str(ROOT),
    }


def test_debug_off_settings_render_pages_with_hashed_static_files_after_collectstatic(tmp_path):
    env = debug_off_env(tmp_path)
    before = subprocess.run(
        [sys.executable, "-c", PAGE_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    # Without collected files no page can name its static files: the 404 falls back to plain text.
    assert before.stdout.startswith("404\n") and 'data-status="404"' not in before.stdout, before.stderr[-2000:]
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert collect.returncode == 0, collect.stderr[-2000:]
    assert (tmp_path / "staticfiles" / "staticfiles.json").exists()
    after = subprocess.run(
        [sys.executable, "-c", PAGE_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    status, html = after.stdout.split("\n", 1)
    assert status == "404", after.stderr[-2000:]
    assert 'data-status="404"' in html
    assert re.search(r'href="/static/bootstrap/css/bootstrap\.min\.[0-9a-f]{12}\.css"', html)
    assert re.search(r'src="/static/js/portal\.[0-9a-f]{12}\.js"', html)


def test_the_embedded_mode_with_debug_off_allows_the_demo_and_plain_http(tmp_path):
    script = (
        "from portal import settings as s; "
        "print(s.DEBUG, s.DEMO_DATA_ALLOWED, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT)"
    )
    embedded = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=debug_off_env(tmp_path), capture_output=True, text=True
    )
    assert embedded.stdout.split() == ["False", "True", "False", "False", "False"], embedded.stderr
    production = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**debug_off_env(tmp_path), "DATABASE_URL": "postgres://portal:x@db:5432/portal"},
        capture_output=True,
        text=True,
    )
    assert production.stdout.split() == ["False", "False", "True", "True", "False"], production.stderr
