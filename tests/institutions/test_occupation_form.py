"""The occupation form offers only what the school may apply for and refuses early in the submit rules' words.

``institutions/services/rules.py: submission_problems`` stays the authority: each refusal here is
checked to be word for word what the submit check says about the same row.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from institutions import services
from institutions.models import AppliedOccupation, EvaluationBasis
from portal.models import Occupation
from schools.models import Level, SchoolType, TrainingLevel
from tests import factories
from tests.conftest import client_for
from tests.institutions.builders import Cast, corresponding_major, pdf, welder

pytestmark = pytest.mark.django_db
NATIONAL, SPECIFICATION = EvaluationBasis.NATIONAL_STANDARD, EvaluationBasis.SPECIFICATION


def occupation(code: str) -> Occupation:
    return Occupation.objects.get(code=code, work_type="")


def blank_draft(cast):
    """A draft with its six conditions filled and no occupation yet."""
    app = services.application_create(school=cast.school, actor=cast.staff)
    for condition in range(1, 7):
        services.condition_answer_save(application=app, actor=cast.staff, condition=condition, statement="说明")
        services.evidence_add(application=app, actor=cast.staff, condition=condition, upload=pdf())
    return app


def add_url(app) -> str:
    return reverse("institutions:occupation_add", args=[app.pk])


def options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="(\d+)"', select)


def body(occ, major, *, high=Level.LEVEL_4, low=Level.LEVEL_5, basis=NATIONAL, ref="") -> dict:
    majors = major if isinstance(major, list) else [major]
    return {
        "occupation": occ.pk,
        "lowest_level": low,
        "highest_level": high,
        "basis": basis,
        "specification_ref": ref,
        "majors": [m.pk for m in majors],
    }


def form_errors(html: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", e).strip() for e in re.findall(r'<div class="invalid-feedback d-block">(.*?)</div>', html)
    ]


def test_only_active_skill_occupations_that_are_not_access_type_are_offered():
    cast = Cast(factories.school())
    app = blank_draft(cast)
    offered = options(client_for(cast.staff).get(add_url(app)).content.decode(), "occupation")
    assert str(welder().pk) in offered
    assert str(occupation("6-18-01-02").pk) in offered  # a skill occupation without a standard: by specification
    assert str(occupation("4-07-05-01").pk) not in offered  # 保安员: access-type
    assert str(occupation("2-02-38-01").pk) not in offered  # a professional occupation
    inactive = occupation("6-18-01-04")
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    assert str(inactive.pk) not in options(client_for(cast.staff).get(add_url(app)).content.decode(), "occupation")


def test_occupations_matching_the_schools_majors_are_offered_first():
    cast = Cast(factories.school())
    corresponding_major(cast.school, welder())
    html = client_for(cast.staff).get(add_url(blank_draft(cast))).content.decode()
    first_group = re.search(r'<optgroup label="与本校在办专业对应">(.*?)</optgroup>', html, re.S).group(1)
    assert f'value="{welder().pk}"' in first_group
    assert f'value="{occupation("6-18-01-02").pk}"' not in first_group


@pytest.mark.parametrize(
    ("school_type", "levels"),
    [(SchoolType.SECONDARY, ["5", "4"]), (SchoolType.INDEPENDENT_HIGHER, ["5", "4", "3"])],
)
def test_the_levels_offered_stop_at_the_school_types_cap(school_type, levels):
    cast = Cast(factories.school(school_type=school_type, through=True))
    html = client_for(cast.staff).get(add_url(blank_draft(cast))).content.decode()
    assert options(html, "highest_level") == levels and options(html, "lowest_level") == levels


def test_each_major_carries_the_highest_level_its_training_level_allows():
    cast = Cast(factories.school())
    secondary = factories.major(cast.school, code="660104", name="焊接技术应用", level=TrainingLevel.SECONDARY)
    higher = factories.major(cast.school, level=TrainingLevel.HIGHER)
    html = client_for(cast.staff).get(add_url(blank_draft(cast))).content.decode()
    assert re.search(
        rf'data-level-cap="4"[^>]*value="{secondary.pk}"|value="{secondary.pk}"[^>]*data-level-cap="4"', html
    )
    assert re.search(rf'data-level-cap="3"[^>]*value="{higher.pk}"|value="{higher.pk}"[^>]*data-level-cap="3"', html)
    assert "data-capped-by-majors" in html


def test_the_majors_are_marked_for_the_chosen_occupation_in_one_query():
    cast = Cast(factories.school())
    matching = corresponding_major(cast.school, welder())
    others = [factories.major(cast.school, code=f"5301{n:02d}", name=f"会计事务{n}") for n in range(3)]
    factories.major(cast.school, name="停办专业").__class__.objects.filter(name="停办专业").update(is_active=False)
    app = blank_draft(cast)
    client = client_for(cast.staff)
    html = client.get(add_url(app)).content.decode()
    assert "data-corresponds" not in html  # nothing chosen yet
    assert "停办专业" not in html  # only active majors

    with CaptureQueriesContext(connection) as ctx:
        html = client.get(add_url(app), {"occupation": welder().pk, "majors": [others[0].pk]}).content.decode()
    correspondence_queries = [q for q in ctx.captured_queries if "majoroccupation" in q["sql"].lower()]
    assert len(correspondence_queries) == 2  # the occupations offered first, and the marks
    assert re.search(rf'data-testid="major-{matching.pk}">.*?data-corresponds="yes"', html, re.S)
    for major in others:
        block = re.search(rf'data-testid="major-{major.pk}">(.*?)</div>', html, re.S).group(1)
        assert 'data-corresponds="no"' in block
    block = re.search(rf'data-testid="major-{others[0].pk}">(.*?)</div>', html, re.S).group(1)
    assert "checked" in block  # a ticked major stays ticked when the occupation changes
    # Choosing another occupation swaps only the marks (out of band), never the checkboxes.
    assert 'hx-get="' + add_url(app) + '"' in html and 'hx-swap="none"' in html
    assert re.search(rf'hx-select-oob="[^"]*#major-mark-{matching.pk}[,"]', html)


# --- Refused early, in the submit rule's own words ------------------------------------------


HIGHER = SchoolType.INDEPENDENT_HIGHER


def refusal_cases():
    """(name, school type, how to build the major, occupation code, body overrides)."""
    spec = {"basis": SPECIFICATION}
    return [
        ("a level above the school type's cap", SchoolType.SECONDARY, "corresponding", "6-18-02-04", {"high": 3}),
        ("a level above the major's training level", HIGHER, "secondary", "6-18-02-04", {"high": 3}),
        ("an access-type occupation", HIGHER, "corresponding", "4-07-05-01", {}),
        ("a professional occupation", HIGHER, "corresponding", "2-02-38-01", {}),
        ("a major that does not correspond", HIGHER, "unrelated", "6-18-02-04", {}),
        ("the national standard where none is published", HIGHER, "corresponding", "6-18-01-02", {}),
        ("a specification where a standard is published", HIGHER, "corresponding", "6-18-02-04", {**spec, "ref": "1"}),
        ("a specification without its filing reference", HIGHER, "corresponding", "6-18-01-02", spec),
    ]


@pytest.mark.parametrize(("case", "school_type", "major_kind", "code", "overrides"), refusal_cases())
def test_the_form_refuses_early_what_the_submit_check_refuses_in_the_same_words(
    case, school_type, major_kind, code, overrides
):
    cast = Cast(factories.school(school_type=school_type, through=True))
    occ = occupation(code)
    if major_kind == "secondary":
        major = factories.major(cast.school, code="660104", name="焊接技术应用", level=TrainingLevel.SECONDARY)
    elif major_kind == "unrelated":
        major = factories.major(cast.school, code="530302", name="大数据与会计")
    else:
        major = corresponding_major(cast.school, occ)
    app = blank_draft(cast)
    data = body(occ, major, **overrides)

    response = client_for(cast.staff).post(add_url(app), data)
    assert response.status_code == 200, case
    refused = form_errors(response.content.decode())
    assert refused, case
    assert not AppliedOccupation.objects.filter(application=app).exists()

    # The same row added past the form: the submit check says the same, word for word.
    services.occupation_add(
        application=app,
        actor=cast.staff,
        occupation=occ,
        lowest_level=data["lowest_level"],
        highest_level=data["highest_level"],
        basis=data["basis"],
        specification_ref=data["specification_ref"],
        majors=[major],
    )
    problems = services.submission_problems(app)
    for message in refused:
        assert message in problems, (case, message, problems)


def test_an_eligible_row_within_every_cap_is_added():
    cast = Cast(factories.school(school_type=SchoolType.SECONDARY, through=True))
    major = factories.major(cast.school, code="660104", name="焊接技术应用", level=TrainingLevel.SECONDARY)
    app = blank_draft(cast)
    response = client_for(cast.staff).post(add_url(app), body(welder(), major, high=Level.LEVEL_4))
    assert response.status_code == 302 and response["Location"] == reverse(
        "institutions:application_detail", args=[app.pk]
    )
    row = AppliedOccupation.objects.get(application=app)
    assert row.highest_level == Level.LEVEL_4 and list(row.majors.all()) == [major]
