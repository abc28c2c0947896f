"""The results pages as the school, the internal supervisor and the centre use them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import BytesIO

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from assessments.models import Attendance, ResultStatus, Score
from assessments.services import results as service
from tests.assessments.test_results_builders import AFTER_BATCH, DUE, add_candidates, at, batch
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _after_batch():
    with time_machine.travel(AFTER_BATCH, tick=False):
        yield


def present_all(b):
    service.attendance_record(
        plan=b.plan, actor=b.staff, entries={c.pk: (Attendance.PRESENT, "") for c in b.candidates}
    )


def upload(data: bytes, name: str = "成绩.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=XLSX)


def filled_template(b, values: dict[int, tuple]) -> bytes:
    """The downloaded template with scores typed in: {excel row: (theory, practical)}."""
    wb = load_workbook(BytesIO(service.score_template(b.plan)))
    ws = wb.worksheets[0]
    for row, (theory, practical) in values.items():
        ws.cell(row=row, column=4, value=theory)
        ws.cell(row=row, column=5, value=practical)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def test_attendance_page_keeps_what_was_typed_and_names_the_candidate():
    b = batch(2)
    first, second = b.candidates
    page = reverse("assessments:results_attendance", args=[b.plan.pk])
    response = client_for(b.staff).post(
        page, {f"att-{first.pk}": "present", f"att-{second.pk}": "cancelled", f"reason-{first.pk}": "准时到场"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and "取消资格须填写原因" in html and second.student.student_number in html
    assert 'value="准时到场"' in html and '<option value="cancelled" selected>' in html
    first.refresh_from_db()
    assert first.attendance == Attendance.EXPECTED
    ok = client_for(b.supervisor).post(
        page, {f"att-{first.pk}": "present", f"att-{second.pk}": "cancelled", f"reason-{second.pk}": "替考"}
    )
    assert ok.status_code == 302
    second.refresh_from_db()
    assert (second.attendance, second.attendance_reason) == ("cancelled", "替考")


def test_attendance_page_refuses_before_the_batch_starts():
    b = batch(1)
    with time_machine.travel(at(dt.date(2026, 12, 2)), tick=False):
        response = client_for(b.staff).get(reverse("assessments:results_attendance", args=[b.plan.pk]))
    assert response.status_code == 409 and "评价尚未开始" in response.content.decode()


def test_the_grid_keeps_typed_values_on_error_names_row_and_column_and_writes_nothing():
    b = batch(2)
    present_all(b)
    first, second = b.candidates
    page = reverse("assessments:results_scores", args=[b.plan.pk])
    body = {
        f"s-{first.pk}-theory": "88",
        f"s-{first.pk}-practical": "91.5",
        f"s-{second.pk}-theory": "101",
        f"s-{second.pk}-practical": "七十",
    }
    response = client_for(b.staff).post(page, body)
    html = response.content.decode()
    assert response.status_code == 200
    assert f"学号{second.student.student_number}（{second.student.name}）「理论考试」" in html and "0至100" in html
    assert "「实操考核」" in html and "不是数字" in html
    for value in ("88", "91.5", "101", "七十"):
        assert f'value="{value}"' in html
    assert not Score.objects.exists()
    body[f"s-{second.pk}-theory"], body[f"s-{second.pk}-practical"] = "60", "59.9"
    assert client_for(b.staff).post(page, body).status_code == 302
    assert Score.objects.count() == 4
    grid = client_for(b.staff).get(page).content.decode()
    assert "合格" in grid and "不合格" in grid


def test_the_grid_shows_a_substituted_theory_score_as_such():
    b = batch(2, substitution=True)
    first, _second = b.candidates
    first.course_score = Decimal("76.0")
    first.save()
    present_all(b)
    html = client_for(b.staff).get(reverse("assessments:results_scores", args=[b.plan.pk])).content.decode()
    assert "课程成绩替代" in html and "76.0" in html
    assert f'name="s-{first.pk}-theory"' not in html and f'name="s-{first.pk}-practical"' in html
    export = load_workbook(
        BytesIO(client_for(b.centre).get(reverse("assessments:results_export", args=[b.plan.pk])).content)
    )
    rows = list(export.worksheets[0].iter_rows(values_only=True))
    assert rows[1][5] == 76.0 and rows[1][-1] == "理论成绩以课程考试成绩替代"


def test_absent_candidates_are_carried_through_the_grid_without_inputs():
    b = batch(2)
    first, absent = b.candidates
    service.attendance_record(
        plan=b.plan, actor=b.staff, entries={first.pk: ("present", ""), absent.pk: ("absent", "病假")}
    )
    html = client_for(b.staff).get(reverse("assessments:results_scores", args=[b.plan.pk])).content.decode()
    assert absent.student.student_number in html and "缺考" in html and "病假" in html
    assert f'name="s-{absent.pk}-theory"' not in html


def test_the_score_template_lists_the_candidates_with_text_identifiers():
    b = batch(2)
    response = client_for(b.staff).get(reverse("assessments:results_template", args=[b.plan.pk]))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    ws = load_workbook(BytesIO(response.content)).worksheets[0]
    assert [c.value for c in ws[1]][:5] == ["学号", "姓名", "证件号码", "理论考试", "实操考核"]
    assert ws.cell(row=2, column=3).value == b.candidates[0].student.id_number
    assert ws.cell(row=2, column=3).number_format == "@"


def test_rule_the_excel_import_is_all_or_nothing_with_row_messages():
    b = batch(3)
    present_all(b)
    page = reverse("assessments:results_import", args=[b.plan.pk])
    bad = filled_template(b, {2: (80, 90), 3: (120, 70), 4: ("abc", 61)})
    response = client_for(b.staff).post(page, {"file": upload(bad)})
    html = response.content.decode()
    assert response.status_code == 200
    assert "第3行（学号" in html and "0至100" in html and "第4行（学号" in html and "不是数字" in html
    assert not Score.objects.exists()
    good = filled_template(b, {2: (80, 90), 3: (100, 70), 4: (60, 61.5)})
    assert client_for(b.staff).post(page, {"file": upload(good)}).status_code == 302
    assert sorted(Score.objects.values_list("value", flat=True)) == sorted(
        Decimal(v) for v in ("80", "90", "100", "70", "60", "61.5")
    )


def test_rule_an_imported_row_must_be_a_candidate_of_the_batch():
    b = batch(1)
    present_all(b)
    wb = load_workbook(BytesIO(service.score_template(b.plan)))
    ws = wb.worksheets[0]
    ws.append(["S999999", "无名", "", 70, 70])
    ws.cell(row=2, column=2, value="别人")
    out = BytesIO()
    wb.save(out)
    _typed, errors = service.parse_score_file(b.plan, out.getvalue())
    assert any(m.startswith("第3行「学号」") and "不是本批次的考生" in m for m in errors)
    assert any(m.startswith("第2行「姓名」") and "不一致" in m for m in errors)


def test_the_export_lists_every_candidate_with_outcome():
    b = batch(2)
    present_all(b)
    first, second = b.candidates
    service.scores_save(
        plan=b.plan,
        actor=b.staff,
        typed={first.pk: {"theory": "70", "practical": "70"}, second.pk: {"theory": "50", "practical": "70"}},
    )
    response = client_for(b.centre).get(reverse("assessments:results_export", args=[b.plan.pk]))
    rows = list(load_workbook(BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:5] == ("学号", "姓名", "证件号码", "考试情况", "说明")
    assert [r[7] for r in rows[1:3]] == ["合格", "不合格"]


def test_a_batch_goes_from_scores_to_accepted_results_through_the_pages():
    b = batch(1)
    present_all(b)
    staff, centre = client_for(b.staff), client_for(b.centre)
    (c,) = b.candidates
    staff.post(
        reverse("assessments:results_scores", args=[b.plan.pk]), {f"s-{c.pk}-theory": "70", f"s-{c.pk}-practical": "75"}
    )
    detail = staff.get(reverse("assessments:plan_detail", args=[b.plan.pk])).content.decode()
    assert 'data-action="results-submit"' in detail
    with time_machine.travel(at(DUE + dt.timedelta(days=1)), tick=False):
        late_staff = client_for(b.staff)  # a fresh session on that day
        submitted = late_staff.post(reverse("assessments:results_act", args=[b.plan.pk, "submit"]))
        assert submitted.status_code == 302 and submitted["Location"] == reverse(
            "assessments:plan_detail", args=[b.plan.pk]
        )
    detail = centre.get(reverse("assessments:plan_detail", args=[b.plan.pk])).content.decode()
    assert 'data-testid="results-late"' in detail and 'data-action="results-accept"' in detail
    review = centre.get(reverse("assessments:results_review", args=[b.plan.pk])).content.decode()
    assert "截止日2026-12-10之后" not in review  # entered before the due day, filed after it
    assert 'data-testid="late"' in review
    assert staff.post(reverse("assessments:results_act", args=[b.plan.pk, "accept"])).status_code == 403
    assert (
        centre.post(reverse("assessments:results_act", args=[b.plan.pk, "accept"]), {"comment": ""}).status_code == 302
    )
    b.plan.results.refresh_from_db()
    assert b.plan.results.status == ResultStatus.ACCEPTED
    detail = staff.get(reverse("assessments:plan_detail", args=[b.plan.pk])).content.decode()
    assert 'data-testid="results-passed">1<' in detail
    again = centre.post(reverse("assessments:results_act", args=[b.plan.pk, "accept"]))
    assert again.status_code == 409


def test_submitting_an_incomplete_batch_shows_what_is_missing():
    b = batch(1)
    response = client_for(b.staff).get(reverse("assessments:results_act", args=[b.plan.pk, "submit"]))
    assert response.status_code == 409 and "尚未登记考试情况" in response.content.decode()


def test_the_review_page_shows_the_anomalies():
    b = batch(3)
    present_all(b)
    service.scores_save(
        plan=b.plan, actor=b.staff, typed={c.pk: {"theory": "66", "practical": "77"} for c in b.candidates}
    )
    service.results_submit(plan=b.plan, actor=b.staff)
    html = client_for(b.centre).get(reverse("assessments:results_review", args=[b.plan.pk])).content.decode()
    assert "3名考生各部分成绩完全相同" in html
    assert client_for(b.staff).get(reverse("assessments:results_review", args=[b.plan.pk])).status_code == 403


def test_the_scores_grid_keeps_a_constant_query_count():
    b = batch(2)
    present_all(b)
    client = client_for(b.staff)
    page = reverse("assessments:results_scores", args=[b.plan.pk])
    client.get(page)
    with CaptureQueriesContext(connection) as small:
        assert client.get(page).status_code == 200
    more = add_candidates(b, 40)
    service.attendance_record(plan=b.plan, actor=b.staff, entries={c.pk: ("present", "") for c in more})
    service.scores_save(plan=b.plan, actor=b.staff, typed={c.pk: {"theory": "70", "practical": "80"} for c in more})
    with CaptureQueriesContext(connection) as large:
        html = client.get(page).content.decode()
    assert html.count("data-candidate=") == 42
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]


def test_the_score_template_keeps_chinese_headers_for_an_english_reader():
    from django.utils import translation

    b = batch(1)
    present_all(b)
    with translation.override("en"):
        data = service.score_template(b.plan)
    ws = load_workbook(BytesIO(data)).worksheets[0]
    assert [c.value for c in ws[1]][:5] == ["学号", "姓名", "证件号码", "理论考试", "实操考核"]
    ws.cell(row=2, column=4, value=70)
    ws.cell(row=2, column=5, value=71)
    out = BytesIO()
    ws.parent.save(out)
    typed, errors = service.parse_score_file(b.plan, out.getvalue())
    assert errors == [] and typed == {b.candidates[0].pk: {"theory": "70", "practical": "71"}}
