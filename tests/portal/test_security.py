"""Security rules of the whole portal: CSP, NUL characters, Excel bombs, private CSRF pages,
evidence download names, and `check --deploy` with the documented production settings."""

from __future__ import annotations

import os
import re
import secrets
import struct
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils.cache import patch_cache_control

from portal.excel import MAX_SHEET_ROW, MAX_UNPACKED_BYTES, RowErrors, read_sheet
from portal.imports import OCCUPATION_COLUMNS, occupation_template
from portal.middleware import PrivateWhenCsrfTokenUsedMiddleware
from portal.models import Job, JobStatus, Role
from portal.security import download_name
from portal.services import job_start
from tests import factories
from tests.conftest import client_for

ROOT = Path(django_settings.BASE_DIR)
NUL_MESSAGE = "请求中含有不允许的空字符"


# --- Content-Security-Policy --------------------------------------------------------------


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["login", "directory"])
def test_every_anonymous_page_carries_a_csp_that_allows_only_our_own_scripts(name):
    response = Client().get(reverse(name))
    assert response.status_code == 200
    directives = csp_directives(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"]


@pytest.mark.django_db
def test_a_logged_in_page_and_an_error_page_carry_the_csp_too():
    client = client_for(factories.user(Role.CENTRE_REVIEWER))
    home = client.get(reverse("home"))
    assert home.status_code == 200 and "'unsafe-inline'" not in csp_directives(home)["script-src"]
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404 and csp_directives(missing)["script-src"] == ["'self'"]


def template_files() -> list[Path]:
    found = list((ROOT / "templates").rglob("*.html"))
    for app_templates in ROOT.glob("*/templates"):
        found += list(app_templates.rglob("*.html"))
    return sorted(found)


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER_ATTRIBUTE = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


def test_no_template_has_an_inline_script_an_event_handler_or_a_javascript_url():
    files = template_files()
    assert len(files) > 20 and ROOT / "templates" / "base.html" in files
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)[:80]}"
        for path in files
        for pattern in (INLINE_SCRIPT, HANDLER_ATTRIBUTE, JAVASCRIPT_URL)
        for match in pattern.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_template_scan_would_catch_each_kind_of_inline_script():
    assert INLINE_SCRIPT.search('<script>alert(1)</script>')
    assert not INLINE_SCRIPT.search("<script src=\"{% static 'js/portal.js' %}\"></script>")
    assert HANDLER_ATTRIBUTE.search('<select id="l" onchange="this.form.submit()">')
    assert JAVASCRIPT_URL.search('<a href="javascript:void(0)">')


@pytest.mark.django_db
def test_the_language_switcher_and_bootstrap_and_htmx_are_served_as_static_files():
    html = Client().get(reverse("login")).content.decode()
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert any("htmx" in s for s in scripts) and any("bootstrap.bundle" in s for s in scripts)
    assert any(s.endswith("js/portal.js") for s in scripts)
    for src in scripts:
        assert src.startswith(django_settings.STATIC_URL)
        assert Client().get(src).status_code == 200


# --- NUL characters ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_nul_in_a_public_search_is_a_400_with_a_chinese_message_not_a_500():
    response = Client().get(reverse("directory") + "?q=%00")
    assert response.status_code == 400
    assert NUL_MESSAGE in response.content.decode()


@pytest.mark.django_db
def test_a_nul_in_a_staff_search_is_a_400_too():
    client = client_for(factories.user(Role.CENTRE_REVIEWER))
    for url in (reverse("occupation_list"), reverse("schools:school_list")):
        response = client.get(url + "?q=abc%00def")
        assert response.status_code == 400, url
        assert NUL_MESSAGE in response.content.decode()


@pytest.mark.django_db
def test_a_nul_in_a_posted_form_field_is_a_400_and_nothing_is_attempted():
    user = factories.user(Role.CENTRE_REVIEWER, password="right-pass-2026")
    response = Client().post(reverse("login"), {"username": user.username + "\x00", "password": "x"})
    assert response.status_code == 400 and NUL_MESSAGE in response.content.decode()
    from axes.models import AccessAttempt

    assert not AccessAttempt.objects.exists()


@pytest.mark.django_db
def test_a_search_without_nul_still_works():
    assert Client().get(reverse("directory") + "?q=%E7%84%8A").status_code == 200


# --- Excel decompression bombs ---------------------------------------------------------------


def with_sheet(template: bytes, sheet_xml: bytes) -> bytes:
    source = zipfile.ZipFile(BytesIO(template))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = sheet_xml if info.filename == "xl/worksheets/sheet1.xml" else source.read(info.filename)
            archive.writestr(info.filename, data)
    return out.getvalue()


def sheet_parts(template: bytes) -> tuple[bytes, bytes, bytes]:
    xml = zipfile.ZipFile(BytesIO(template)).read("xl/worksheets/sheet1.xml")
    start, end = xml.index(b"<sheetData>") + len(b"<sheetData>"), xml.index(b"</sheetData>")
    return xml[:start], xml[start:end], xml[end:]


def empty_rows_bomb() -> bytes:
    """A 50 KB workbook whose sheet inflates to 60 MB of empty rows."""
    head, header_row, tail = sheet_parts(occupation_template())
    return with_sheet(occupation_template(), head + header_row + b"<row/>" * 10_000_000 + tail)


def declared_size_bomb() -> bytes:
    """A small, otherwise sound workbook whose central directory declares a 3 GB sheet."""
    data = bytearray(occupation_template())
    name = b"xl/worksheets/sheet1.xml"
    records = [m.start() for m in re.finditer(rb"PK\x01\x02", data)]  # central directory entries
    entry = next(r for r in records if data[r + 46 : r + 46 + len(name)] == name)
    struct.pack_into("<I", data, entry + 24, 3_000_000_000)  # uncompressed size
    return bytes(data)


def refusal(data: bytes) -> list[str]:
    errors = RowErrors()
    assert read_sheet(data, OCCUPATION_COLUMNS, errors) == []
    return errors.final()


def test_an_excel_bomb_is_refused_by_its_declared_size_before_parsing():
    bomb = empty_rows_bomb()
    assert len(bomb) < 200_000
    assert sum(i.file_size for i in zipfile.ZipFile(BytesIO(bomb)).infolist()) > MAX_UNPACKED_BYTES
    messages = refusal(bomb)
    assert len(messages) == 1 and "解压后超过" in messages[0] and len(messages[0]) < 80


def test_an_excel_whose_sheet_declares_a_huge_uncompressed_size_is_refused():
    bomb = declared_size_bomb()
    sheet = zipfile.ZipFile(BytesIO(bomb)).getinfo("xl/worksheets/sheet1.xml")
    assert sheet.file_size == 3_000_000_000 and len(bomb) < 20_000
    messages = refusal(bomb)
    assert len(messages) == 1 and "解压后超过" in messages[0]


def test_a_tiny_sheet_claiming_a_million_rows_is_refused_with_one_short_message():
    head, header_row, tail = sheet_parts(occupation_template())
    head = re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:XFD1048576"/>', head)
    far = b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    messages = refusal(with_sheet(occupation_template(), head + header_row + far + tail))
    assert messages == [f"工作表超过第 {MAX_SHEET_ROW} 行，请删除多余的行或拆分后分别导入。"]


def test_a_header_of_a_thousand_characters_is_not_repeated_whole_in_the_message():
    head, header_row, tail = sheet_parts(occupation_template())
    long_header = b'<c r="Z1" t="inlineStr"><is><t>' + "长".encode() * 1000 + b"</t></is></c></row>"
    header_row = header_row.replace(b"</row>", long_header, 1)
    messages = refusal(with_sheet(occupation_template(), head + header_row + tail))
    assert len(messages) == 1 and len(messages[0]) < 100


@pytest.mark.django_db
def test_an_uploaded_bomb_fails_the_import_job_with_a_short_message(django_capture_on_commit_callbacks):
    admin = factories.user(Role.SYSTEM_ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(
            kind="import_occupations", actor=admin, upload=SimpleUploadedFile("bomb.xlsx", empty_rows_bomb())
        )
    job = Job.objects.get(pk=job.pk)
    assert job.status == JobStatus.FAILED
    assert "解压后超过" in str(job.errors) and len(str(job.errors)) < 300


# --- Pages that carry a CSRF token are never publicly cacheable ------------------------------


def chain(view):
    return CsrfViewMiddleware(PrivateWhenCsrfTokenUsedMiddleware(view))


def public_page(uses_token: bool):
    def view(request):
        response = HttpResponse(get_token(request) if uses_token else "same for everyone")
        patch_cache_control(response, public=True, max_age=300)
        return response

    return view


def test_a_public_page_that_used_the_csrf_token_is_made_private_and_not_stored():
    response = chain(public_page(uses_token=True))(RequestFactory().get("/"))
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= directives
    assert not {d for d in directives if d.startswith(("public", "max-age", "s-maxage"))}
    assert "Cookie" in response["Vary"]


def test_a_public_page_without_the_csrf_token_keeps_its_public_caching():
    response = chain(public_page(uses_token=False))(RequestFactory().get("/"))
    assert response["Cache-Control"] == "public, max-age=300"


@pytest.mark.django_db
def test_the_anonymous_login_page_with_its_csrf_token_is_private():
    response = Client().get(reverse("login"))
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()
    cache_control = response["Cache-Control"]
    assert "private" in cache_control and "no-store" in cache_control and "public" not in cache_control
    assert "Cookie" in response["Vary"]


@pytest.mark.django_db
def test_every_anonymous_page_with_a_csrf_token_is_private():
    for url in (reverse("login"), reverse("directory"), "/no-such-page/"):
        response = Client().get(url)
        if "csrfmiddlewaretoken" in response.content.decode():
            assert "public" not in response.get("Cache-Control", "") and "no-store" in response["Cache-Control"], url


# --- Evidence downloads -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uploaded", "content_type", "offered"),
    [
        ("证明材料.pdf", "application/pdf", "证明材料.pdf"),
        ("scan.html", "application/pdf", "scan.html.pdf"),
        ("photo.png", "image/jpeg", "photo.jpg"),
        ("photo.JPEG", "image/png", "photo.png"),
        ("../../etc/passwd", "application/pdf", "passwd.pdf"),
        ('a"b;c\r\n.pdf', "application/pdf", "a_b_c.pdf"),
        ("noname", "text/html", "noname.bin"),
    ],
)
def test_a_download_is_named_with_the_extension_of_its_checked_content_type(uploaded, content_type, offered):
    assert download_name(uploaded, content_type) == offered


@pytest.mark.django_db
def test_an_evidence_download_uses_the_checked_type_whatever_name_it_was_uploaded_under():
    from institutions import services
    from institutions.models import EvidenceFile
    from tests.institutions.builders import MINIMAL_PDF, Cast, pdf

    cast = Cast(factories.school())
    app = cast.draft()
    services.evidence_add(application=app, actor=cast.staff, condition=1, upload=pdf("材料.pdf"))
    evidence = EvidenceFile.objects.filter(answer__application=app, original_name="材料.pdf").get()
    EvidenceFile.objects.filter(pk=evidence.pk).update(original_name="页面.html")
    response = client_for(cast.staff).get(reverse("institutions:evidence_download", args=[evidence.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == MINIMAL_PDF
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert disposition.endswith("filename*=utf-8''%E9%A1%B5%E9%9D%A2.html.pdf")
    assert disposition.isascii() and "\n" not in disposition


# --- manage.py check --deploy ------------------------------------------------------------------


def documented_production_env(tmp_path) -> dict[str, str]:
    """The .env of docs/production.md (placeholders filled) plus what docker-compose.yml sets."""
    doc = (ROOT / "docs" / "production.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", doc, re.S).group(1)
    env = dict(re.findall(r"^\s*([A-Z][A-Z0-9_]+)=(\S+)\s*$", block, re.M))
    assert {"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DJANGO_BEHIND_PROXY", "AXES_PROXY_COUNT"} <= set(env)
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    env["POSTGRES_PASSWORD"] = secrets.token_hex(16)
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "DJANGO_BEHIND_PROXY" in compose and "AXES_PROXY_COUNT" in compose
    env.update(
        DATABASE_URL=f"postgres://portal:{env['POSTGRES_PASSWORD']}@db:5432/portal",
        REDIS_URL="redis://redis:6379/0",
        DJANGO_DEBUG="0",
        PORTAL_VAR_DIR=str(tmp_path),
    )
    return env


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "AXES_"))}
    env = {**base, **documented_production_env(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
