"""axe-core finds no serious or critical violation on the oversight pages (issue 10): the public
complaint form, the centre's dashboard, coverage with its server-drawn charts, statistics, cases and
the audit log, in Chinese and in English. Same checker as ``test_accessibility.py``."""

from __future__ import annotations

import pytest

from oversight.services.coverage import refresh_coverage
from oversight.services.statistics import figures_refresh
from portal.models import Role
from tests import factories
from tests.browser.test_accessibility import LANGUAGES, PASSWORD, check, log_in
from tests.oversight import test_coverage_world as w

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
pytestmark.append(pytest.mark.needs("chromium"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_serious_or_critical_violations_on_the_oversight_pages(browser_context_factory, language):
    world = w.build()
    refresh_coverage(w.CURRENT, today=w.TODAY)
    figures_refresh()
    centre = factories.user(Role.CENTRE_REVIEWER, password=PASSWORD)
    problems: dict[str, list[str]] = {}

    anonymous = browser_context_factory().new_page()
    if language != "zh-hans":
        anonymous.goto(f"/i18n/setlang/?language={language}&next=/oversight/complaints/new/")
    check(anonymous, "/oversight/complaints/new/", problems, language)

    page = browser_context_factory().new_page()
    log_in(page, centre.username, language)
    for path in (
        "/",
        f"/oversight/coverage/?year={w.CURRENT}",
        f"/oversight/coverage/?year={w.CURRENT}&school={world.a.pk}",
        "/oversight/statistics/",
        "/oversight/cases/",
        "/oversight/audit/",
    ):
        check(page, path, problems, language)

    assert problems == {}, "\n".join(f"{p}:\n  " + "\n  ".join(v) for p, v in problems.items())
