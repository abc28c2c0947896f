"""A newcomer's machine: missing Debian packages are installed, or named loudly, never silently skipped.

Missing packages are simulated the way portal/sysdeps.py documents: binaries are looked up only in
``PORTAL_SYSDEPS_BIN_PATH`` and libraries only in ``PORTAL_SYSDEPS_LIB_DIR``; pointing them at
directories that do not exist (or hold only fakes) makes a bare machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from portal import sysdeps
from portal.models import Role, User
from tests import factories
from tests.conftest import client_for

ROOT = Path(settings.BASE_DIR)
SCRIPT = ROOT / "scripts" / "system-deps"
NOWHERE = "/nonexistent/portal-sysdeps"


def fake_bin(directory: Path, **programs: str) -> Path:
    """A directory of shell scripts standing in for programs: name -> script body."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, body in programs.items():
        path = directory / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
    return directory


FC_LIST_WITH_CJK = 'echo "WenQuanYi Micro Hei"'


def loaded_path(soname: str) -> str:
    """Where the dynamic loader found a library (to build a library directory holding only some)."""
    import ctypes

    ctypes.CDLL(soname)
    for line in Path("/proc/self/maps").read_text().splitlines():
        if line.endswith("/" + soname) or f"/{soname}." in line.split()[-1]:
            return line.split()[-1]
    pytest.fail(f"{soname} is loaded but not found in /proc/self/maps")


def only_libraries(directory: Path, *sonames: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for soname in sonames:
        (directory / soname).symlink_to(loaded_path(soname))
    return directory


def bare_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {sysdeps.ENV_CHROMIUM, sysdeps.ENV_REQUIRE}}
    return {**env, sysdeps.ENV_BIN_PATH: NOWHERE, sysdeps.ENV_LIB_DIR: NOWHERE, **extra}


@pytest.fixture
def bare_machine(monkeypatch):
    monkeypatch.setenv(sysdeps.ENV_BIN_PATH, NOWHERE)
    monkeypatch.setenv(sysdeps.ENV_LIB_DIR, NOWHERE)
    monkeypatch.delenv(sysdeps.ENV_CHROMIUM, raising=False)


# --- The check ---------------------------------------------------------------------------------


def test_a_bare_machine_misses_every_package_and_one_command_installs_them(bare_machine):
    report = sysdeps.check(["pango", "cjk-font", "harfbuzz-subset", "poppler-utils", "chromium"])
    assert [r.name for r in report.missing] == ["pango", "cjk-font", "harfbuzz-subset", "poppler-utils", "chromium"]
    assert report.broken
    command = report.install_command()
    assert "apt-get install -y --no-install-recommends" in command
    for package in ["libpango-1.0-0", "fonts-wqy-microhei", "libharfbuzz-subset0", "poppler-utils", "chromium"]:
        assert package in command.split()


def test_chromium_is_looked_for_where_the_browser_tests_launch_it(monkeypatch, tmp_path):
    monkeypatch.setenv(sysdeps.ENV_CHROMIUM, str(tmp_path / "no-chromium"))
    assert sysdeps.check(["chromium"]).is_missing("chromium")
    fake_bin(tmp_path, chromium="exit 0")
    monkeypatch.setenv(sysdeps.ENV_CHROMIUM, str(tmp_path / "chromium"))
    assert sysdeps.check(["chromium"]).ok
    assert sysdeps.chromium_path() == str(tmp_path / "chromium")


def test_a_font_list_without_chinese_means_no_cjk_font(monkeypatch, tmp_path):
    monkeypatch.setenv(sysdeps.ENV_BIN_PATH, str(fake_bin(tmp_path / "none", **{"fc-list": "exit 0"})))
    assert sysdeps.check(["cjk-font"]).is_missing("cjk-font")
    monkeypatch.setenv(sysdeps.ENV_BIN_PATH, str(fake_bin(tmp_path / "zh", **{"fc-list": FC_LIST_WITH_CJK})))
    assert sysdeps.check(["cjk-font"]).ok


def test_the_result_is_checked_once_per_process(monkeypatch, tmp_path):
    calls = []
    present = sysdeps.Requirement.present
    monkeypatch.setattr(sysdeps.Requirement, "present", lambda self: calls.append(self.name) or present(self))
    monkeypatch.setenv(sysdeps.ENV_LIB_DIR, str(tmp_path))  # a key no earlier check used
    first = sysdeps.check(sysdeps.DOCUMENTS)
    assert sysdeps.check(sysdeps.DOCUMENTS) is first
    assert sysdeps.health() == sysdeps.health()
    assert sorted(calls) == sorted(sysdeps.DOCUMENTS)


# --- make run, /healthz, the administrator's home page -------------------------------------------


def run_script(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=120)


def test_make_run_warns_with_the_install_command_when_chinese_would_print_as_boxes(tmp_path):
    env = bare_env(**{sysdeps.ENV_LIB_DIR: ""})  # libraries as installed; no fc-list, so no CJK font
    result = run_script("check", "documents", env=env)
    assert result.returncode == 0  # a warning: the portal still runs
    out = result.stdout
    assert "缺少生成 PDF 文档（备案回执、证书）所需的系统软件包" in out
    assert "fonts-wqy-microhei — 中文字体：PDF 中的中文会被印成方框" in out
    assert re.search(r"apt-get install -y --no-install-recommends fonts-wqy-microhei$", out, re.M)
    brief = run_script("check", "documents", "--brief", env=env).stdout
    assert brief.startswith("!! 缺少 missing: fonts-wqy-microhei") and brief.count("\n") == 1


def test_make_run_warns_that_no_pdf_can_be_made_without_pango_and_runs_on():
    result = run_script("check", "documents", env=bare_env())
    assert result.returncode == 0
    assert "libpango-1.0-0 libpangoft2-1.0-0 — PDF 排版库 Pango：无法生成任何 PDF：WeasyPrint 无法加载" in result.stdout


@pytest.mark.needs("pango")
def test_make_run_says_in_one_line_when_everything_is_present(tmp_path):
    libs = only_libraries(tmp_path / "lib", "libpango-1.0.so.0", "libpangoft2-1.0.so.0", "libharfbuzz-subset.so.0")
    env = bare_env(**{sysdeps.ENV_BIN_PATH: str(fake_bin(tmp_path / "bin", **{"fc-list": FC_LIST_WITH_CJK}))})
    env[sysdeps.ENV_LIB_DIR] = str(libs)
    result = run_script("check", "documents", env=env)
    assert (result.returncode, result.stdout) == (
        0,
        "系统软件包齐全 system packages present: pango, cjk-font, harfbuzz-subset\n",
    )
    assert run_script("check", "documents", "--brief", env=env).stdout == ""


@pytest.mark.django_db
def test_healthz_is_503_when_pdfs_would_be_broken(bare_machine):
    response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["database"] == "ok"
    assert body["documents"].startswith("error: missing pango (libpango-1.0-0 libpangoft2-1.0-0), cjk-font")
    assert "apt-get install -y --no-install-recommends libpango-1.0-0" in body["documents"]


@pytest.mark.django_db
@pytest.mark.needs("pango")
def test_healthz_stays_healthy_but_says_slow_without_harfbuzz_subsetting(monkeypatch, tmp_path):
    libs = only_libraries(tmp_path / "lib", "libpango-1.0.so.0", "libpangoft2-1.0.so.0")
    monkeypatch.setenv(sysdeps.ENV_LIB_DIR, str(libs))
    monkeypatch.setenv(sysdeps.ENV_BIN_PATH, str(fake_bin(tmp_path / "bin", **{"fc-list": FC_LIST_WITH_CJK})))
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["documents"].startswith("slow: missing harfbuzz-subset (libharfbuzz-subset0)")


@pytest.mark.django_db
@pytest.mark.needs("pango", "cjk-font", "harfbuzz-subset")
def test_healthz_documents_ok_on_a_complete_machine():
    assert Client().get("/healthz").json()["documents"] == "ok"


@pytest.mark.django_db
def test_the_system_administrators_home_page_shows_the_same_warning(bare_machine):
    admin = factories.user(Role.SYSTEM_ADMIN)
    page = client_for(admin).get("/").content.decode()
    assert "系统检查：生成 PDF 文档所需的软件包缺失" in page
    assert "中文字体" in page and "fonts-wqy-microhei" in page
    assert "apt-get install -y --no-install-recommends libpango-1.0-0" in page
    school = factories.school()
    staff = factories.user(Role.SCHOOL_STAFF, organisation=school.organisation)
    assert "系统检查" not in client_for(staff).get("/").content.decode()


@pytest.mark.django_db
@pytest.mark.needs("pango", "cjk-font", "harfbuzz-subset")
def test_no_warning_on_the_home_page_when_everything_is_present():
    admin = factories.user(Role.SYSTEM_ADMIN)
    response = client_for(admin).get("/")
    assert response.status_code == 200 and "工作台" in response.content.decode()  # the home page, not a refusal
    assert "系统检查" not in response.content.decode()


# --- make test: the installer ------------------------------------------------------------------

FAKE_APT = {
    # Records each call; "installs" a package by putting its programs into this directory.
    "apt-get": """echo "$DEBIAN_FRONTEND $*" >> "$(dirname "$0")/apt-calls"
[ "$1" = install ] || exit 0
dir=$(dirname "$0")
for p in "$@"; do case "$p" in
  poppler-utils) printf '#!/bin/sh\\n' > "$dir/pdftotext"; cp "$dir/pdftotext" "$dir/pdftoppm";;
  chromium) printf '#!/bin/sh\\n' > "$dir/chromium";;
  fonts-wqy-microhei) printf '#!/bin/sh\\necho "WenQuanYi Micro Hei"\\n' > "$dir/fc-list";;
esac; done
chmod +x "$dir"/*""",
    "apt-cache": """case "$2" in
  chromium) printf '%s:\\n  Installed: (none)\\n  Candidate: (none)\\n' "$2";;
  *) printf '%s:\\n  Installed: (none)\\n  Candidate: 1.0\\n' "$2";;
esac""",
    "sudo": 'shift; exec "$@"',  # passwordless sudo, for a run that is not root
}


def test_make_test_installs_what_is_missing_once_without_a_prompt(tmp_path):
    bin_dir = fake_bin(tmp_path / "bin", **FAKE_APT)
    env = bare_env(**{sysdeps.ENV_BIN_PATH: str(bin_dir), sysdeps.ENV_LIB_DIR: ""})
    env.pop("DEBIAN_FRONTEND", None)
    stamp = tmp_path / "var" / "system-deps-tried"

    first = run_script("install", "tests", "--stamp", str(stamp), env=env)
    assert first.returncode == 0, first.stderr
    calls = (bin_dir / "apt-calls").read_text().splitlines()
    assert calls[0] == "noninteractive update -qq"
    install = calls[1].split()
    assert install[:2] == ["noninteractive", "install"]
    assert {"-y", "--no-install-recommends", "poppler-utils", "fonts-wqy-microhei"} <= set(install)
    assert "chromium" not in install  # apt has no candidate for it here (as on Ubuntu)
    out = first.stdout
    assert re.search(r"^正在安装 installing: .*poppler-utils", out, re.M)
    installed = re.search(r"^已安装 installed: (.*)$", out, re.M).group(1).split()
    assert {"poppler-utils", "fonts-wqy-microhei"} <= set(installed)
    assert "软件源中没有 not available from apt here: chromium" in out
    assert "仍缺少 still missing:" in out and "chromium" in out.splitlines()[-1]

    second = run_script("install", "tests", "--stamp", str(stamp), env=env)
    assert len((bin_dir / "apt-calls").read_text().splitlines()) == 2  # tried once, not again
    assert "不再重试 already tried on" in second.stdout and f"delete {stamp} to try again" in second.stdout
    assert "apt-get install -y --no-install-recommends chromium" in second.stdout


def test_make_test_only_names_the_command_when_it_may_not_install(tmp_path):
    bin_dir = fake_bin(tmp_path / "bin", **FAKE_APT)
    env = bare_env(**{sysdeps.ENV_BIN_PATH: str(bin_dir), sysdeps.ENV_LIB_DIR: "", sysdeps.ENV_INSTALL: "0"})
    result = run_script("install", "tests", "--stamp", str(tmp_path / "stamp"), env=env)
    assert result.returncode == 0
    assert not (bin_dir / "apt-calls").exists()
    assert "未安装 not installing (PORTAL_INSTALL_SYSTEM_DEPS=0)" in result.stdout
    assert re.search(r"apt-get install -y --no-install-recommends .*poppler-utils.*chromium$", result.stdout, re.M)


# --- make test: the summary at the end ------------------------------------------------------------

NEEDY_TESTS = """
import pytest

@pytest.mark.needs("chromium", "poppler-utils")
def test_reads_the_receipt_in_a_browser():
    pass

@pytest.mark.needs("poppler-utils")
def test_reads_the_receipt():
    pass

def test_needs_nothing():
    pass
"""


def run_pytest(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --strict-markers\nmarkers =\n    needs: system\n")
    (tmp_path / "test_needy.py").write_text(NEEDY_TESTS)
    env = {**env, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "portal.settings"}
    command = [sys.executable, "-m", "pytest", "-p", "tests.sysdeps_plugin", "-p", "no:django"]
    command += ["-p", "no:cacheprovider"]
    return subprocess.run(
        [*command, "-q", "test_needy.py"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120
    )


def test_tests_missing_a_package_are_skipped_and_listed_loudly_with_the_command(tmp_path):
    result = run_pytest(tmp_path, bare_env())
    out = result.stdout
    assert result.returncode == 0, out
    assert "1 passed, 2 skipped" in out
    block = out[out.index("系统软件包 system packages") :]
    assert "!! 缺少系统软件包，2 个测试被跳过（没有运行）— missing system packages: 2 tests were SKIPPED" in block
    assert "tests needing chromium, poppler-utils:\n     test_needy.py::test_reads_the_receipt_in_a_browser" in block
    assert "tests needing poppler-utils:\n     test_needy.py::test_reads_the_receipt\n" in block
    assert "poppler-utils — PDF 读取工具 pdftotext、pdftoppm：测试无法读回 PDF 中的文字" in block
    assert re.search(r"安装 install: .*apt-get install -y --no-install-recommends .*poppler-utils .*chromium", block)
    assert "test_needs_nothing" not in block


def test_under_the_ci_variable_a_missing_package_fails_the_run(tmp_path):
    result = run_pytest(tmp_path, bare_env(**{sysdeps.ENV_REQUIRE: "1"}))
    out = result.stdout
    assert result.returncode == 1, out
    assert "1 passed, 2 errors" in out
    assert "ERROR test_needy.py::test_reads_the_receipt - " in out
    assert "PORTAL_REQUIRE_SYSTEM_DEPS=1 and missing system package: poppler-utils (poppler-utils)" in out
    assert "!! PORTAL_REQUIRE_SYSTEM_DEPS=1：缺少系统软件包，2 个测试报错，本次运行失败" in out


@pytest.mark.needs("poppler-utils")  # the fake tests' needs, met here from PATH
def test_under_the_ci_variable_a_package_no_test_skips_still_fails_the_run(tmp_path):
    env = bare_env(**{sysdeps.ENV_REQUIRE: "1", sysdeps.ENV_LIB_DIR: NOWHERE})
    env[sysdeps.ENV_BIN_PATH] = os.environ.get("PATH", "")  # every program, but no libraries
    env[sysdeps.ENV_CHROMIUM] = str(fake_bin(tmp_path / "bin", chromium="exit 0") / "chromium")
    result = run_pytest(tmp_path, env)
    assert result.returncode == 1, result.stdout
    assert "3 passed" in result.stdout and "libharfbuzz-subset0" in result.stdout


@pytest.mark.needs("pango", "cjk-font", "harfbuzz-subset", "poppler-utils", "chromium")
def test_when_everything_is_present_the_summary_is_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_SYSDEPS_")}
    result = run_pytest(tmp_path, env)
    assert result.returncode == 0, result.stdout
    lines = result.stdout[result.stdout.index("系统软件包 system packages") :].splitlines()
    assert lines[1] == (
        "系统软件包齐全 all system packages present (pango, cjk-font, harfbuzz-subset, poppler-utils, chromium): "
        "the 2 tests that need them ran"
    )


# --- make run: whom to log in as ---------------------------------------------------------------


@pytest.mark.django_db
def test_demo_logins_come_with_what_each_finds_waiting(settings):
    from institutions.models import ApplicationStatus, FilingApplication

    settings.DEMO_DATA_ALLOWED = True
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("list_demo_users", "--hints", stdout=out)
    rows = {line.split("\t")[0]: line.split("\t") for line in out.getvalue().splitlines()}
    assert all(len(row) == 4 and row[3] for row in rows.values())
    submitted = FilingApplication.objects.get(status=ApplicationStatus.SUBMITTED)
    assert f"{submitted.school.name}（待受理）" in rows["commission-dept"][3]
    school_login = User.objects.get(organisation=submitted.school.organisation).username
    assert f"#{submitted.pk}（{submitted.get_status_display()}）" in rows[school_login][3]

    plain = StringIO()
    call_command("list_demo_users", stdout=plain)
    assert all(len(line.split("\t")) == 3 for line in plain.getvalue().splitlines())  # README's format
