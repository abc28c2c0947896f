"""System packages in the tests: ``@pytest.mark.needs("chromium", "poppler-utils")``.

Names are those of ``portal.sysdeps.REQUIREMENTS``. A test whose package is missing is skipped, and
all such tests are listed in one loud block at the end of the run: which tests, which package, and
the one command that installs them. The block is printed on every run; when everything is present it
is one line saying so. Under ``PORTAL_REQUIRE_SYSTEM_DEPS=1`` (CI) such a test fails instead, and a
missing package that skips nothing (HarfBuzz's subsetter only makes PDFs slower) fails the run too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from portal import sysdeps

# Everything the tests use (the virtualenv module is only for `make install`).
TEST_NEEDS = tuple(name for name in sysdeps.TESTS if name != "venv")


@dataclass
class State:
    report: sysdeps.Report
    require: bool
    needing: dict[str, tuple[str, ...]] = field(default_factory=dict)  # test id -> requirement names
    blocked: dict[str, tuple[str, ...]] = field(default_factory=dict)  # test id -> the missing ones


STATE = pytest.StashKey[State]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[STATE] = State(report=sysdeps.check(TEST_NEEDS), require=sysdeps.require_all())


def _names(item: pytest.Item) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(name for mark in item.iter_markers("needs") for name in mark.args))
    unknown = [n for n in names if n not in sysdeps.REQUIREMENTS]
    if unknown:
        raise pytest.UsageError(
            f"{item.nodeid}: unknown system package {unknown} in @pytest.mark.needs; "
            f"known: {', '.join(sysdeps.REQUIREMENTS)}"
        )
    return names


def _reason(missing: tuple[str, ...]) -> str:
    packages = " ".join(p for name in missing for p in sysdeps.REQUIREMENTS[name].packages)
    return f"missing system package: {packages} ({', '.join(missing)})"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash[STATE]
    for item in items:
        names = _names(item)
        if not names:
            continue
        state.needing[item.nodeid] = names
        missing = tuple(n for n in names if sysdeps.check((n,)).missing)
        if missing:
            state.blocked[item.nodeid] = missing
            if not state.require:
                item.add_marker(pytest.mark.skip(reason=_reason(missing)))


def pytest_deselected(items: list[pytest.Item]) -> None:
    if not items:
        return
    state = items[0].config.stash[STATE]
    for item in items:
        state.needing.pop(item.nodeid, None)
        state.blocked.pop(item.nodeid, None)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    state = item.config.stash[STATE]
    missing = state.blocked.get(item.nodeid)
    if missing and state.require:
        pytest.fail(f"{sysdeps.ENV_REQUIRE}=1 and {_reason(missing)}", pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash[STATE]
    if state.require and state.report.missing and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def summary_lines(state: State) -> list[tuple[str, dict[str, bool]]]:
    """The block's lines, each with its terminal markup."""
    report = state.report
    loud = {"red": True, "bold": True}
    if report.ok:
        names = ", ".join(r.name for r in report.checked)
        n = len(state.needing)
        ran = "the 1 test that needs them ran" if n == 1 else f"the {n} tests that need them ran"
        return [(f"系统软件包齐全 all system packages present ({names}): {ran}", {"green": True})]
    if state.require:
        head = (f"!! {sysdeps.ENV_REQUIRE}=1：缺少系统软件包，{len(state.blocked)} 个测试报错，本次运行失败 — "
                f"missing system packages: {len(state.blocked)} tests ERROR at setup and the run FAILS")
    else:
        head = (f"!! 缺少系统软件包，{len(state.blocked)} 个测试被跳过（没有运行）— "
                f"missing system packages: {len(state.blocked)} tests were SKIPPED, not run")
    lines = [(head, loud)]
    by_missing: dict[tuple[str, ...], list[str]] = {}
    for nodeid, missing in state.blocked.items():
        by_missing.setdefault(missing, []).append(nodeid)
    for r in report.missing:
        lines.append((f"   - {' '.join(r.packages)} — {r.label}：{r.effect}", loud))
        lines.append((f"     {r.label_en}: {r.effect_en} [checked: {r.probe}]", {}))
    for missing, nodeids in by_missing.items():
        lines.append((f"   tests needing {', '.join(missing)}:", {"bold": True}))
        lines += [(f"     {nodeid}", {}) for nodeid in nodeids]
    lines.append((f"   安装 install:  {report.install_command()}", loud))
    lines.append(("   然后重新运行 then run again: make test", {}))
    if not state.require:
        lines.append((f"   ({sysdeps.ENV_REQUIRE}=1, as in CI, fails these tests instead of skipping them)", {}))
    return lines


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash[STATE]
    ok = state.report.ok
    terminalreporter.write_sep("=", "系统软件包 system packages", green=ok, red=not ok, bold=not ok)
    for text, markup in summary_lines(state):
        terminalreporter.write_line(text, **markup)
    if not ok:
        terminalreporter.write_sep("=", red=True, bold=True)
