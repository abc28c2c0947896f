"""axe-core finds no serious or critical violation on the pages people use most (issue 7, "Done when").

Login, home, a filing application, an expert's findings, the public directory and the student import,
each in Chinese and in English. axe-core comes from PyPI's ``axe-playwright-python`` (a dev dependency
bundling ``axe.min.js``), injected with ``page.evaluate``, which the Content-Security-Policy does not
block. A failure lists each violation with its rule, impact, help text and the first offending nodes.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from institutions.models import FilingApplication
from portal.models import Role
from tests import factories
from tests.institutions.builders import Cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
pytestmark.append(pytest.mark.needs("chromium"))

PASSWORD = "a11y-pass-2026"
LANGUAGES = ["zh-hans", "en"]
BLOCKING = {"serious", "critical"}


def serious_violations(page: Page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.response["passes"], "axe-core ran no rule: not injected?"
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in BLOCKING:
            targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return found


def log_in(page: Page, username: str, language: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    if language != "zh-hans":
        page.select_option("#language", language)
        with page.expect_navigation():
            page.locator("[data-testid=language-switch]").click()
    assert page.locator("html").get_attribute("lang") == ("zh-CN" if language == "zh-hans" else language)


@pytest.fixture
def filing():
    """A school with staff and majors, its application under evaluation with a panel."""
    school = factories.school()
    cast = Cast(school, staff=factories.user(Role.SCHOOL_STAFF, organisation=school.organisation, password=PASSWORD))
    cast.experts[1].set_password(PASSWORD)
    cast.experts[1].save()
    app = cast.with_panel()
    return cast, app


def check(page: Page, path: str, problems: dict[str, list[str]], language: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path}: {response and response.status}"
    page.wait_for_load_state("networkidle")
    found = serious_violations(page)
    if found:
        problems[f"{language} {path}"] = found


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_serious_or_critical_violations(browser_context_factory, filing, language):
    cast, app = filing
    app: FilingApplication
    problems: dict[str, list[str]] = {}

    anonymous = browser_context_factory().new_page()
    if language != "zh-hans":
        anonymous.goto(f"/i18n/setlang/?language={language}&next=/accounts/login/")
    check(anonymous, "/accounts/login/", problems, language)
    check(anonymous, "/directory/", problems, language)

    staff = browser_context_factory().new_page()
    log_in(staff, cast.staff.username, language)
    for path in ("/", f"/institutions/{app.pk}/", f"/schools/{cast.school.pk}/students/import/"):
        check(staff, path, problems, language)

    expert = browser_context_factory().new_page()
    log_in(expert, cast.experts[1].username, language)
    check(expert, f"/institutions/{app.pk}/findings/", problems, language)

    assert problems == {}, "\n".join(f"{page}:\n  " + "\n  ".join(v) for page, v in problems.items())
