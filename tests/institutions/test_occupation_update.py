"""services.occupation_update: a draft's (or returned application's) occupation row changed, with its history."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from institutions import services
from institutions.models import EvaluationBasis
from portal.i18n import shown
from portal.models import Occupation, Role
from portal.workflow import TransitionError
from schools.models import Level
from tests import factories
from tests.institutions.builders import Cast, corresponding_major, welder

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast():
    return Cast(factories.school())


def change(cast, applied, **overrides):
    values = {
        "applied": applied,
        "actor": cast.staff,
        "occupation": applied.occupation,
        "lowest_level": Level.LEVEL_5,
        "highest_level": Level.LEVEL_4,
        "basis": EvaluationBasis.NATIONAL_STANDARD,
        "specification_ref": "",
        "majors": list(applied.majors.all()),
    }
    return services.occupation_update(**{**values, **overrides})


def test_occupation_update_changes_the_row_and_its_majors_and_records_who_and_why(cast):
    app = cast.draft()
    applied = app.occupations.get()
    second = factories.major(cast.school, code="460109", name="智能焊接技术二")
    row = change(cast, applied, lowest_level=Level.LEVEL_4, highest_level=Level.LEVEL_4, majors=[second])
    row.refresh_from_db()
    assert (row.lowest_level, row.highest_level) == (Level.LEVEL_4, Level.LEVEL_4)
    assert list(row.majors.all()) == [second]
    latest = row.history.latest()
    assert latest.history_user == cast.staff and shown(latest.history_change_reason) == "修改申报职业（工种）"
    assert latest.lowest_level == Level.LEVEL_4


def test_occupation_update_is_allowed_again_once_the_application_is_returned(cast):
    app = cast.submitted()
    services.application_return(application=app, actor=cast.dept, comment="请调整等级")
    row = change(cast, app.occupations.get(), highest_level=Level.LEVEL_5)
    assert row.highest_level == Level.LEVEL_5


def test_occupation_update_is_refused_once_submitted_and_changes_nothing(cast):
    app = cast.submitted()
    applied = app.occupations.get()
    with pytest.raises(TransitionError):
        change(cast, applied, highest_level=Level.LEVEL_5)
    applied.refresh_from_db()
    assert applied.highest_level == Level.LEVEL_3


def test_occupation_update_by_another_schools_staff_is_forbidden(cast):
    applied = cast.draft().occupations.get()
    other_staff = factories.user(Role.SCHOOL_STAFF, organisation=factories.school().organisation)
    with pytest.raises(PermissionDenied):
        change(cast, applied, actor=other_staff)


def test_occupation_update_refuses_a_major_of_another_school(cast):
    applied = cast.draft().occupations.get()
    with pytest.raises(PermissionDenied):
        change(cast, applied, majors=[factories.major(factories.school())])


def test_occupation_update_refuses_a_lowest_level_above_the_highest(cast):
    applied = cast.draft().occupations.get()
    with pytest.raises(ValidationError, match="最低等级不能高于最高等级"):
        change(cast, applied, lowest_level=Level.LEVEL_3, highest_level=Level.LEVEL_4)


def test_occupation_update_refuses_an_occupation_already_in_the_application(cast):
    app = cast.draft()
    turner = Occupation.objects.get(code="6-18-01-01", work_type="")
    other = services.occupation_add(
        application=app,
        actor=cast.staff,
        occupation=turner,
        highest_level=Level.LEVEL_4,
        basis=EvaluationBasis.NATIONAL_STANDARD,
        majors=[corresponding_major(cast.school, turner)],
    )
    with pytest.raises(ValidationError, match="该职业（工种）已在申请中"):
        change(cast, other, occupation=welder())
    other.refresh_from_db()
    assert other.occupation == turner
