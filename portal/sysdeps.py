"""The Debian packages the portal and its tests need, checked in one place.

One check, ``check(names)``, is used by everyone who must know:

- ``make test`` runs ``scripts/system-deps install``: installs what the tests need when it may
  (root or passwordless sudo), once, and says what it did;
- the tests' summary (``tests/sysdeps_plugin.py``) lists the tests a missing package skipped, or fails
  them under ``PORTAL_REQUIRE_SYSTEM_DEPS=1`` (CI);
- ``make run`` runs ``scripts/system-deps check documents`` and warns; ``/healthz`` and the system
  administrator's home page say the same (``health()``, ``home_panel()``).

Checks look where the portal itself looks: binaries on ``PATH`` (or ``PORTAL_SYSDEPS_BIN_PATH``),
shared libraries through the dynamic loader (or only in ``PORTAL_SYSDEPS_LIB_DIR``), Chromium at
``PORTAL_CHROMIUM``. Pointing these at directories that do not exist simulates a bare machine.
A result is cached for the process (fonts and libraries do not change while it runs); the cache key
includes those variables, so changing them gives a fresh check.

Only the standard library at import: the script loads this file with the system Python, before the
virtualenv exists. Django is imported inside the functions that need it.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ENV_BIN_PATH = "PORTAL_SYSDEPS_BIN_PATH"
ENV_LIB_DIR = "PORTAL_SYSDEPS_LIB_DIR"
ENV_CHROMIUM = "PORTAL_CHROMIUM"
ENV_REQUIRE = "PORTAL_REQUIRE_SYSTEM_DEPS"
ENV_INSTALL = "PORTAL_INSTALL_SYSTEM_DEPS"
APT_OPTIONS = ["-y", "--no-install-recommends", "-o", "Dpkg::Options::=--force-confdef", "-o",
               "Dpkg::Options::=--force-confold"]
FALSE_WORDS = {"0", "false", "no", "off"}


def gettext_noop(message: str) -> str:
    """Marks a msgid for makemessages; translated where it is shown (the home panel)."""
    return message


@dataclass(frozen=True)
class Requirement:
    name: str
    packages: tuple[str, ...]
    label: str  # Chinese msgid; ``label_en`` for the terminal
    label_en: str
    effect: str  # what goes wrong without it (Chinese msgid)
    effect_en: str
    probe: str  # what is checked, as a person would check it
    binaries: tuple[str, ...] = ()
    libraries: tuple[str, ...] = ()
    font_language: str = ""
    breaks_documents: bool = True  # False: documents are right, only slower

    def present(self) -> bool:
        if self.name == "chromium":
            return bool(chromium_path(default=""))
        if self.name == "venv":
            from importlib.util import find_spec

            return find_spec("ensurepip") is not None
        ok = all(_which(b) for b in self.binaries) and all(_loadable(lib) for lib in self.libraries)
        return ok and (not self.font_language or bool(_font_families(self.font_language)))


REQUIREMENTS: dict[str, Requirement] = {
    r.name: r
    for r in [
        Requirement(
            "pango",
            ("libpango-1.0-0", "libpangoft2-1.0-0"),
            gettext_noop("PDF 排版库 Pango"),
            "Pango, WeasyPrint's text layout",
            gettext_noop("无法生成任何 PDF：WeasyPrint 无法加载"),
            "no PDF at all (WeasyPrint cannot load)",
            "libpango-1.0.so.0, libpangoft2-1.0.so.0",
            libraries=("libpango-1.0.so.0", "libpangoft2-1.0.so.0"),
        ),
        Requirement(
            "cjk-font",
            ("fonts-wqy-microhei",),
            gettext_noop("中文字体"),
            "a CJK font",
            gettext_noop("PDF 中的中文会被印成方框"),
            "Chinese prints as boxes in PDFs",
            "fc-list :lang=zh",
            font_language="zh",
        ),
        Requirement(
            "harfbuzz-subset",
            ("libharfbuzz-subset0",),
            gettext_noop("HarfBuzz 字体子集化"),
            "HarfBuzz font subsetting",
            gettext_noop("PDF 生成每页约慢 30 倍，约 2.5 秒"),
            "each PDF page takes ~30x longer (~2.5 s)",
            "libharfbuzz-subset.so.0",
            libraries=("libharfbuzz-subset.so.0",),
            breaks_documents=False,
        ),
        Requirement(
            "poppler-utils",
            ("poppler-utils",),
            gettext_noop("PDF 读取工具 pdftotext、pdftoppm"),
            "pdftotext and pdftoppm, to read PDFs back",
            gettext_noop("测试无法读回 PDF 中的文字"),
            "tests cannot read PDF text back",
            "pdftotext, pdftoppm",
            binaries=("pdftotext", "pdftoppm"),
        ),
        Requirement(
            "chromium",
            ("chromium",),
            gettext_noop("Chromium 浏览器"),
            "Chromium",
            gettext_noop("浏览器测试无法运行"),
            "browser tests cannot run",
            f"${ENV_CHROMIUM} or chromium on PATH",
        ),
        Requirement(
            "venv",
            (f"python3.{sys.version_info.minor}-venv",),
            gettext_noop("Python 虚拟环境模块"),
            "Python's venv module (ensurepip)",
            gettext_noop("无法建立 .venv"),
            "`make install` cannot create .venv",
            "import ensurepip",
        ),
    ]
}

# What real documents need (make run, /healthz, the administrator's home page).
DOCUMENTS = ("pango", "cjk-font", "harfbuzz-subset")
# What `make test` installs; tests name their own needs with @pytest.mark.needs(...).
TESTS = ("venv", "pango", "cjk-font", "harfbuzz-subset", "poppler-utils", "chromium")
GROUPS = {"documents": DOCUMENTS, "tests": TESTS}


# --- Looking ---------------------------------------------------------------------------------


def _bin_path() -> str:
    return os.environ.get(ENV_BIN_PATH) or os.environ.get("PATH", os.defpath)


def _which(name: str) -> str | None:
    return shutil.which(name, path=_bin_path())


def _loadable(soname: str) -> bool:
    lib_dir = os.environ.get(ENV_LIB_DIR)
    try:
        ctypes.CDLL(os.path.join(lib_dir, soname) if lib_dir else soname)
    except OSError:
        return False
    return True


def _font_families(language: str) -> list[str]:
    """Families fontconfig (and so WeasyPrint, through Pango) offers for a language."""
    fc_list = _which("fc-list")
    if not fc_list:
        return []
    try:
        result = subprocess.run(
            [fc_list, f":lang={language}", "family"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return sorted({line.strip() for line in result.stdout.splitlines() if line.strip()})


def chromium_path(default: str = "/usr/bin/chromium") -> str:
    """The Chromium the browser tests launch: ``$PORTAL_CHROMIUM``, else ``chromium`` on the path."""
    configured = os.environ.get(ENV_CHROMIUM)
    if configured:
        return configured if os.access(configured, os.X_OK) else default
    return _which("chromium") or default


def require_all() -> bool:
    return os.environ.get(ENV_REQUIRE, "").strip().lower() not in FALSE_WORDS | {""}


# --- The one check -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    checked: tuple[Requirement, ...]
    missing: tuple[Requirement, ...]

    @property
    def ok(self) -> bool:
        return not self.missing

    @property
    def broken(self) -> bool:
        """Something is missing without which documents come out wrong (not merely slower)."""
        return any(r.breaks_documents for r in self.missing)

    @property
    def packages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for r in self.missing for p in r.packages))

    def install_command(self) -> str:
        return install_command(self.packages)

    def is_missing(self, name: str) -> bool:
        return any(r.name == name for r in self.missing)


_cache: dict[tuple, Report] = {}


def check(names: Iterable[str] = DOCUMENTS, *, fresh: bool = False) -> Report:
    """Which of the named requirements are missing; cached for the process."""
    names = tuple(names)
    unknown = [n for n in names if n not in REQUIREMENTS]
    if unknown:
        raise KeyError(f"unknown system requirement(s): {', '.join(unknown)}; known: {', '.join(REQUIREMENTS)}")
    key = (names, _bin_path(), os.environ.get(ENV_LIB_DIR), os.environ.get(ENV_CHROMIUM))
    if fresh or key not in _cache:
        checked = tuple(REQUIREMENTS[n] for n in names)
        _cache[key] = Report(checked, tuple(r for r in checked if not r.present()))
    return _cache[key]


def install_command(packages: Iterable[str]) -> str:
    """One line a person can paste; ``apt-get update`` first, since a fresh image has no package lists."""
    sudo = "" if _is_root() else "sudo "
    return f"{sudo}apt-get update && {sudo}apt-get install -y --no-install-recommends {' '.join(packages)}"


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


# --- What people see ---------------------------------------------------------------------------

RULE = "=" * 78


def warning_lines(report: Report, *, headline: str, headline_en: str) -> list[str]:
    """The loud block of the terminal: what is missing, what goes wrong, the one command."""
    lines = [RULE, f"!! {headline}", f"!! {headline_en}"]
    for r in report.missing:
        lines.append(f"   - {' '.join(r.packages)} — {r.label}：{r.effect}")
        lines.append(f"     {r.label_en}: {r.effect_en} [checked: {r.probe}]")
    lines += [f"   安装 install:  {report.install_command()}", RULE]
    return lines


def documents_warning(report: Report | None = None) -> list[str]:
    report = report or check(DOCUMENTS)
    if report.ok:
        return []
    return warning_lines(
        report,
        headline="缺少生成 PDF 文档（备案回执、证书）所需的系统软件包",
        headline_en="System packages missing for real PDF documents (filing receipts, certificates)",
    )


def health() -> tuple[str, bool]:
    """The ``documents`` entry of /healthz and whether the portal is healthy on that account."""
    report = check(DOCUMENTS)
    if report.ok:
        return "ok", True
    word = "error" if report.broken else "slow"
    names = ", ".join(f"{r.name} ({' '.join(r.packages)})" for r in report.missing)
    return f"{word}: missing {names}; install: {report.install_command()}", not report.broken


def home_panel(user):
    """The system administrator's home page: the same warning as ``make run``, or nothing."""
    from django.utils.translation import gettext as _

    from portal.home import HomeItem, HomePanel
    from portal.models import Role

    if not (user.is_authenticated and (user.is_superuser or user.has_role(Role.SYSTEM_ADMIN))):
        return None
    report = check(DOCUMENTS)
    if report.ok:
        return None
    items = [HomeItem(_(r.label), meta=_(r.effect), badge=" ".join(r.packages)) for r in report.missing]
    items.append(HomeItem(_("安装命令：%(command)s") % {"command": report.install_command()}))
    return HomePanel(_("系统检查：生成 PDF 文档所需的软件包缺失"), items, order=0)


# --- `make run` and `make test` (scripts/system-deps) ----------------------------------------------


def run_check(group: str, *, brief: bool = False, out: Callable[[str], None] = print) -> int:
    """`make run`: warns about what documents need; the portal runs anyway (receipts wait for the fix)."""
    report = check(GROUPS[group])
    if report.ok:
        if not brief:
            out(f"系统软件包齐全 system packages present: {', '.join(r.name for r in report.checked)}")
        return 0
    if brief:
        out(f"!! 缺少 missing: {' '.join(report.packages)} — {report.install_command()}")
        return 0
    for line in documents_warning(report) if group == "documents" else _missing_lines(report):
        out(line)
    return 0


def _missing_lines(report: Report) -> list[str]:
    return warning_lines(report, headline="缺少系统软件包", headline_en="Missing system packages")


def run_install(group: str, *, stamp: Path, out: Callable[[str], None] = print) -> int:
    """`make test`: installs the missing packages if this user may, once; never prompts.

    Returns 0 whatever happens: the tests' summary lists what is still missing, and under
    ``PORTAL_REQUIRE_SYSTEM_DEPS=1`` the tests fail.
    """
    report = check(GROUPS[group], fresh=True)
    if report.ok:
        out(f"系统软件包齐全 system packages present: {', '.join(r.name for r in report.checked)}")
        return 0
    wanted = report.packages
    out(f"缺少系统软件包 missing system packages: {' '.join(wanted)}")
    manual = f"请手动安装 install them yourself: {report.install_command()}"
    if os.environ.get(ENV_INSTALL, "").strip().lower() in FALSE_WORDS:
        out(f"未安装 not installing ({ENV_INSTALL}=0). {manual}")
        return 0
    apt_get, apt_cache = _which("apt-get"), _which("apt-cache")
    if not (apt_get and apt_cache):
        out(f"不是 Debian/Ubuntu（没有 apt-get）not Debian or Ubuntu: install the equivalents of {' '.join(wanted)}.")
        return 0
    prefix = _privilege()
    if prefix is None:
        out(f"无权安装（不是 root，sudo 需要密码）not root and no passwordless sudo. {manual}")
        return 0
    tried = _read_stamp(stamp)
    todo = [p for p in wanted if p not in tried]
    if not todo:
        out(f"已于 {tried[wanted[0]]} 尝试安装过，不再重试 already tried on {tried[wanted[0]]}; "
            f"delete {stamp} to try again. {manual}")
        return 0
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    wrap = [*prefix, "env", "DEBIAN_FRONTEND=noninteractive"] if prefix else []
    out(f"正在安装 installing: {' '.join(todo)}")
    quiet = {"stdin": subprocess.DEVNULL, "env": env, "check": False}
    subprocess.run([*wrap, apt_get, "update", "-qq"], **quiet)
    available = [p for p in todo if _has_candidate(apt_cache, p, env)]
    unavailable = [p for p in todo if p not in available]
    if available:
        subprocess.run([*wrap, apt_get, "install", "-qq", *APT_OPTIONS, *available], **quiet)
    _write_stamp(stamp, {**tried, **dict.fromkeys(todo, dt.datetime.now().isoformat(timespec="seconds"))})
    after = check(GROUPS[group], fresh=True)
    installed = [p for p in available if p not in after.packages]
    if installed:
        out(f"已安装 installed: {' '.join(installed)}")
    if unavailable:
        out(f"软件源中没有 not available from apt here: {' '.join(unavailable)}")
    if after.missing:
        out(f"仍缺少 still missing: {' '.join(after.packages)} (the tests' summary lists what they skip)")
    return 0


def _privilege() -> list[str] | None:
    """[] as root, ["sudo", "-n"] with passwordless sudo, None otherwise."""
    if _is_root():
        return []
    sudo = _which("sudo")
    if sudo and subprocess.run([sudo, "-n", "true"], capture_output=True, stdin=subprocess.DEVNULL).returncode == 0:
        return [sudo, "-n"]
    return None


def _has_candidate(apt_cache: str, package: str, env: dict[str, str]) -> bool:
    result = subprocess.run(
        [apt_cache, "policy", package], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL
    )
    for line in result.stdout.splitlines():
        if line.strip().startswith("Candidate:"):
            return line.split(":", 1)[1].strip() not in {"", "(none)"}
    return False


def _read_stamp(stamp: Path) -> dict[str, str]:
    """package -> when its installation was tried."""
    if not stamp.exists():
        return {}
    return dict(line.split("\t", 1) for line in stamp.read_text().splitlines() if "\t" in line)


def _write_stamp(stamp: Path, tried: dict[str, str]) -> None:
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text("".join(f"{p}\t{when}\n" for p, when in tried.items()))


def default_stamp() -> Path:
    var = os.environ.get("PORTAL_VAR_DIR") or Path(__file__).resolve().parent.parent / "var"
    return Path(var) / "system-deps-tried"


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="scripts/system-deps", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    check_parser = sub.add_parser("check", help="warn about missing packages (make run)")
    check_parser.add_argument("group", choices=sorted(GROUPS))
    check_parser.add_argument("--brief", action="store_true", help="one line, only when something is missing")
    install_parser = sub.add_parser("install", help="install missing packages once if root or passwordless sudo")
    install_parser.add_argument("group", choices=sorted(GROUPS))
    install_parser.add_argument("--stamp", type=Path, default=None, help="records what was tried")
    args = parser.parse_args(argv)
    if args.action == "check":
        return run_check(args.group, brief=args.brief)
    return run_install(args.group, stamp=args.stamp or default_stamp())
