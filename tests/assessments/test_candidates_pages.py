"""The candidate pages as school staff and the centre use them: pick, import, export, remove,
the batch page's section, and the centre's openings to other schools."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
import time_machine
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from assessments.models import Candidate, CandidateOpening, PlanStatus
from assessments.services import candidates as services
from assessments.views import candidates as views
from portal.models import Job, Role
from tests import factories
from tests.assessments.candidate_builders import filed_batch
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def batch():
    return filed_batch()


def test_staff_pick_graduating_year_students_filter_and_add_them(batch):
    good = [batch.student(n) for n in (1, 2)]
    batch.student(3, expected_graduation=dt.date(2028, 6, 30))  # not in its graduating year: not listed
    client = client_for(batch.staff)
    url = reverse("assessments:candidate_pick", args=[batch.plan.pk])
    page = client.get(url).content.decode()
    assert "S000001" in page and "S000002" in page and "S000003" not in page
    assert good[0].masked_id_number in page and good[0].id_number not in page
    assert "S000002" not in client.get(url, {"q": "学生1"}).content.decode()
    other_major = factories.major(batch.school, code="530302", name="大数据与会计")
    batch.student(4, major=other_major)
    filtered = client.get(url, {"major": batch.major.pk}).content.decode()
    assert "S000004" not in filtered and "S000001" in filtered
    response = client.post(url, {"student": [s.pk for s in good]})
    assert response.status_code == 302 and response["Location"] == reverse(
        "assessments:plan_detail", args=[batch.plan.pk]
    )
    assert set(Candidate.objects.values_list("student_id", flat=True)) == {s.pk for s in good}
    # Already in the batch: shown as such, no checkbox.
    again = client.get(url).content.decode()
    assert "已在名单" in again and f'id="student-{good[0].pk}"' not in again


def test_a_refused_pick_adds_nobody_shows_each_message_and_keeps_the_ticks(batch):
    ok = batch.student(1)
    other_major = factories.major(batch.school, code="530302", name="大数据与会计")
    wrong = batch.student(2, major=other_major)
    response = client_for(batch.staff).post(
        reverse("assessments:candidate_pick", args=[batch.plan.pk]), {"student": [ok.pk, wrong.pk]}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "学号S000002 学生2：所学专业530302 大数据与会计不是" in page
    assert f'value="{ok.pk}" id="student-{ok.pk}" checked' in page
    assert f'value="{wrong.pk}" id="student-{wrong.pk}" checked' in page
    assert not Candidate.objects.exists()


def test_pick_and_import_are_for_the_schools_staff_while_the_plan_is_editable(batch):
    batch.student(1)
    pick = reverse("assessments:candidate_pick", args=[batch.plan.pk])
    assert client_for(batch.centre).get(pick).status_code == 404  # a draft is the school's own
    batch.plan.status = PlanStatus.SUBMITTED
    batch.plan.save()
    assert client_for(batch.centre).get(pick).status_code == 403
    refused = client_for(batch.staff).get(pick)
    assert refused.status_code == 409 and "不能修改考生名单" in refused.content.decode()
    imp = reverse("assessments:candidate_import", args=[batch.plan.pk])
    assert client_for(batch.staff).get(imp).status_code == 409


def test_the_batch_page_lists_candidates_with_masked_ids_and_removes_one(batch):
    students = [batch.student(n) for n in (1, 2)]
    services.candidates_add(plan=batch.plan, actor=batch.staff, students=students)
    client = client_for(batch.staff)
    page = client.get(reverse("assessments:plan_detail", args=[batch.plan.pk])).content.decode()
    assert 'data-testid="candidate-count">共 2 人' in page
    assert students[0].masked_id_number in page and students[0].id_number not in page
    for name in ("candidate_pick", "candidate_import", "candidate_export"):
        assert reverse(f"assessments:{name}", args=[batch.plan.pk]) in page
    candidate = Candidate.objects.get(student=students[0])
    remove = reverse("assessments:candidate_remove", args=[batch.plan.pk, candidate.pk])
    assert remove in page
    assert client.get(remove).status_code == 405
    assert client.post(remove).status_code == 302
    assert list(Candidate.objects.values_list("student_id", flat=True)) == [students[1].pk]
    # Filed: no more pick, import or remove buttons; the export stays.
    batch.plan.status = PlanStatus.SUBMITTED
    batch.plan.save()
    page = client.get(reverse("assessments:plan_detail", args=[batch.plan.pk])).content.decode()
    assert reverse("assessments:candidate_pick", args=[batch.plan.pk]) not in page
    assert reverse("assessments:candidate_export", args=[batch.plan.pk]) in page
    other = Candidate.objects.get()
    assert client.post(reverse("assessments:candidate_remove", args=[batch.plan.pk, other.pk])).status_code == 409


def test_the_candidate_list_exports_with_full_ids_as_text(batch):
    students = [batch.student(n) for n in (1, 2)]
    services.candidates_add(plan=batch.plan, actor=batch.staff, students=students)
    response = client_for(batch.staff).get(reverse("assessments:candidate_export", args=[batch.plan.pk]))
    assert response.status_code == 200
    ws = load_workbook(BytesIO(response.content)).worksheets[0]
    assert [c.value for c in ws[1]][:5] == ["序号", "学号", "姓名", "证件类型", "证件号码"]
    assert ws["E2"].value == students[0].id_number and ws["E2"].number_format == "@"
    assert ws["B3"].value == "S000002" and ws["B3"].number_format == "@"


def test_the_import_page_starts_a_job_and_the_template_downloads(batch, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import Workbook

    student = batch.student(1)
    wb = Workbook()
    wb.active.append(["学号", "证件号码", "姓名"])
    wb.active.append([student.student_number, student.id_number, student.name])
    buffer = BytesIO()
    wb.save(buffer)
    client = client_for(batch.staff)
    assert client.get(reverse("assessments:candidate_template")).status_code == 200
    url = reverse("assessments:candidate_import", args=[batch.plan.pk])
    assert "下载 Excel 模板" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"file": SimpleUploadedFile("考生.xlsx", buffer.getvalue())})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("job_detail", args=[job.pk])
    assert Candidate.objects.get().student == student
    progress = client.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert "考生名单导入" in progress and "progress" in progress


def test_the_centre_records_an_opening_with_the_commission_department_and_ends_it(batch):
    other_school = factories.school()
    dept = factories.user(Role.COMMISSION_DEPT_OFFICER)
    centre = client_for(batch.centre)
    url = reverse("assessments:opening_list")
    page = centre.get(url).content.decode()
    assert dept.full_name in page  # chosen from the department's officers
    body = {
        "institution": batch.institution.pk,
        "school": other_school.pk,
        "decided_on": "2026-11-20",
        "reference": "沪职鉴〔2026〕8号",
        "commission_dept_officer": dept.pk,
    }
    # The institution's own school needs no opening: the form again with the rule.
    refused = centre.post(url, {**body, "school": batch.school.pk}).content.decode()
    assert "评价机构本校的学生无需开放" in refused and "沪职鉴〔2026〕8号" in refused
    assert centre.post(url, body).status_code == 302
    opening = CandidateOpening.objects.get()
    assert (opening.centre_officer, opening.commission_dept_officer) == (batch.centre, dept)
    assert opening.history.get().history_user == batch.centre
    assert batch.staff.notifications.filter(title__contains="评价机构面向外校开放").exists()
    again = centre.post(url, body).content.decode()
    assert "尚未终止，请勿重复登记" in again
    end = reverse("assessments:opening_end", args=[opening.pk])
    assert client_for(batch.staff).post(end, {"ended_on": "2026-11-25"}).status_code == 403
    assert client_for(dept).post(url, body).status_code == 403  # reads, does not record
    assert centre.post(end, {"ended_on": "2026-11-25"}).status_code == 302
    opening.refresh_from_db()
    assert opening.ended_on == dt.date(2026, 11, 25)
    assert centre.post(end, {"ended_on": "2026-11-26"}).status_code == 409


def _section_queries(batch, request) -> int:
    with CaptureQueriesContext(connection) as ctx:
        context = views.section_context(request, batch.plan)
        html = render_to_string(
            "assessments/sections/candidates.html", {"s": context, "plan": batch.plan}, request=request
        )
    assert "S000001" in html
    return len(ctx.captured_queries)


def test_the_candidate_section_and_pick_page_keep_a_constant_number_of_queries(batch):
    request = RequestFactory().get("/")
    request.user = batch.staff
    students = [batch.student(n) for n in range(1, 4)]
    services.candidates_add(plan=batch.plan, actor=batch.staff, students=students)
    client = client_for(batch.staff)
    pick = reverse("assessments:candidate_pick", args=[batch.plan.pk])
    client.get(pick)  # warm-up: one-off caches of the page around the list
    small = _section_queries(batch, request)
    with CaptureQueriesContext(connection) as ctx:
        client.get(pick)
    pick_small = len(ctx.captured_queries)
    more = [batch.student(n) for n in range(4, 80)]
    services.candidates_add(plan=batch.plan, actor=batch.staff, students=more)
    [batch.student(n) for n in range(80, 140)]
    assert _section_queries(batch, request) == small
    with CaptureQueriesContext(connection) as ctx:
        client.get(pick)
    assert len(ctx.captured_queries) == pick_small


def test_once_opened_the_pick_page_lists_related_majors_of_the_other_school(batch):
    from tests.assessments.candidate_builders import MAJOR_CODE

    other_school = factories.school(name="开放对象职业学院")
    related = batch.student(1, major=factories.major(other_school, code=MAJOR_CODE), student_number="T0001")
    batch.student(2, major=factories.major(other_school, code="530302"), student_number="T0002")
    client = client_for(batch.staff)
    url = reverse("assessments:candidate_pick", args=[batch.plan.pk])
    assert "T0001" not in client.get(url).content.decode()
    CandidateOpening.objects.create(
        institution=batch.institution,
        school=other_school,
        decided_on=dt.date(2026, 11, 1),
        reference="沪职鉴〔2026〕8号",
        centre_officer=batch.centre,
        commission_dept_officer=factories.user(Role.COMMISSION_DEPT_OFFICER),
    )
    page = client.get(url).content.decode()
    assert "T0001" in page and "开放对象职业学院" in page and "T0002" not in page
    assert client.post(url, {"student": [related.pk]}).status_code == 302
    assert Candidate.objects.get().student == related
