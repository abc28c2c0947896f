"""Editing a plan the school may still change: dates, site, method, substitution, modules."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from assessments import services
from assessments.models import AssessmentMethod, PlanModule
from assessments.services import drafting
from tests import factories
from tests.assessments.test_plan_filing import at, filed, plan  # noqa: F401  (fixture)
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC), tick=False):
        yield


def _edit(p, actor, **changes):
    fields = {"site": p.site, "method": p.method, "starts_at": p.starts_at, "ends_at": p.ends_at}
    return drafting.plan_update(plan=p, actor=actor, **{**fields, **changes})


def test_rule_an_edited_plan_keeps_to_the_filed_validity(filed):  # noqa: F811
    cast, inst, row, site = filed
    draft = plan(cast, inst, row, site, start=dt.date(2026, 12, 10))
    beyond = row.valid_until + dt.timedelta(days=1)
    with pytest.raises(ValidationError, match="不在有效的备案范围内"):
        _edit(draft, cast.staff, starts_at=at(beyond), ends_at=at(beyond, 17))
    draft.refresh_from_db()
    assert draft.starts_at == at(dt.date(2026, 12, 10))
    moved = _edit(draft, cast.staff, starts_at=at(dt.date(2026, 12, 14)), ends_at=at(dt.date(2026, 12, 15), 17))
    assert moved.ends_at == at(dt.date(2026, 12, 15), 17)
    assert moved.history.first().history_user == cast.staff


def test_rule_a_filed_plan_is_not_edited_in_place(filed):  # noqa: F811
    cast, inst, row, site = filed
    filed_plan = services.plan_submit(plan=plan(cast, inst, row, site, start=dt.date(2026, 12, 10)), actor=cast.staff)
    with pytest.raises(ValidationError, match="不能修改"):
        _edit(filed_plan, cast.staff, ends_at=at(dt.date(2026, 12, 11), 17))


def test_only_the_schools_staff_edit_its_plan(filed):  # noqa: F811
    cast, inst, row, site = filed
    draft = plan(cast, inst, row, site, start=dt.date(2026, 12, 10))
    with pytest.raises(PermissionDenied):
        _edit(draft, cast.centre)
    with pytest.raises(PermissionDenied):
        _edit(draft, factories.user("school_staff", organisation=factories.school().organisation))


def test_rule_course_score_substitution_only_in_result_assessment(filed):  # noqa: F811
    cast, inst, row, site = filed
    draft = plan(cast, inst, row, site, start=dt.date(2026, 12, 10))
    assert _edit(draft, cast.staff, theory_by_course_score=True).theory_by_course_score
    process = _edit(draft, cast.staff, method=AssessmentMethod.PROCESS, theory_by_course_score=True)
    assert not process.theory_by_course_score


def test_rule_process_assessment_maps_course_modules_to_assessment_modules(filed):  # noqa: F811
    cast, inst, row, site = filed
    draft = plan(cast, inst, row, site, start=dt.date(2026, 12, 10))
    with pytest.raises(ValidationError, match="只有过程考核"):
        drafting.module_add(plan=draft, actor=cast.staff, code="M1", name="焊前准备", course="焊接工艺")
    draft = _edit(draft, cast.staff, method=AssessmentMethod.PROCESS)
    drafting.module_add(plan=draft, actor=cast.staff, code="M1", name="焊前准备", course="焊接工艺")
    with pytest.raises(ValidationError, match="已存在"):
        drafting.module_add(plan=draft, actor=cast.staff, code="M1", name="又一个", course="课程")
    with pytest.raises(ValidationError, match="系统保留"):
        drafting.module_add(plan=draft, actor=cast.staff, code="theory", name="理论", course="课程")
    assert list(PlanModule.objects.filter(plan=draft).values_list("code", flat=True)) == ["M1"]
    drafting.module_remove(module=PlanModule.objects.get(plan=draft), actor=cast.staff)
    assert not PlanModule.objects.filter(plan=draft).exists()


def test_the_edit_page_keeps_what_was_typed_on_a_refusal(filed):  # noqa: F811
    cast, inst, row, site = filed
    draft = plan(cast, inst, row, site, start=dt.date(2026, 12, 10))
    staff = client_for(cast.staff)
    url = reverse("assessments:plan_edit", args=[draft.pk])
    assert staff.get(url).status_code == 200
    body = {"site": site.pk, "method": "result", "starts_at": "2026-12-11T09:00", "ends_at": "2026-12-11T08:00"}
    page = staff.post(url, body)
    text = page.content.decode()
    assert page.status_code == 200 and "结束时间须晚于开始时间" in text and 'value="2026-12-11T08:00"' in text
    body["ends_at"] = "2026-12-11T17:00"
    assert staff.post(url, body).status_code == 302
    draft.refresh_from_db()
    assert draft.starts_at == at(dt.date(2026, 12, 11))
    detail = staff.get(reverse("assessments:plan_detail", args=[draft.pk])).content.decode()
    assert url in detail  # the school sees how to change its draft


def test_the_module_form_answers_with_the_message_and_what_was_typed(filed):  # noqa: F811
    cast, inst, row, site = filed
    draft = _edit(plan(cast, inst, row, site, start=dt.date(2026, 12, 10)), cast.staff, method="process")
    staff = client_for(cast.staff)
    url = reverse("assessments:module_add", args=[draft.pk])
    assert staff.post(url, {"code": "M1", "name": "焊前准备", "course": "焊接工艺"}).status_code == 302
    again = staff.post(url, {"code": "M1", "name": "再来", "course": "焊接工艺二"})
    text = again.content.decode()
    assert again.status_code == 200 and "已存在" in text and 'value="焊接工艺二"' in text
    detail = staff.get(reverse("assessments:plan_detail", args=[draft.pk])).content.decode()
    assert "焊前准备" in detail and "焊接工艺" in detail
