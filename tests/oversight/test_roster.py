"""Roster sharing (信息共享, issue 10 item 5; notice 二(四)2): the commission's graduating-student
roster imported from Excel (all or nothing, each bad row named) and reconciled against the student
records, the candidates and the certificates; the report scoped per reader, exported both ways."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from oversight.models import RosterEntry, RosterImport
from oversight.selectors import roster as selectors
from oversight.services import roster as service
from portal.models import Job, JobStatus, Role
from tests import factories
from tests.assessments.test_results_builders import add_candidates
from tests.certificates.test_records_builders import issued
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

YEAR = 2026  # factories' students graduate on 2027-06-30: the 2026–2027 school year
HEADERS = ["姓名", "证件号码", "学校", "专业", "专业代码"]


def xlsx(rows, headers=HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(list(r))
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def row_of(student, **over) -> list:
    values = {
        "name": student.name,
        "id_number": student.id_number,
        "school": student.school.organisation.name,
        "major": student.major.name,
        "code": student.major.code,
    }
    values.update(over)
    return [values["name"], values["id_number"], values["school"], values["major"], values["code"]]


@pytest.fixture
def commission(db):
    return factories.user(Role.COMMISSION_OFFICER)


# --- Import ------------------------------------------------------------------------------------


def test_roster_import_is_atomic_and_names_each_bad_row_and_field(school, commission):
    major = factories.major(school)
    good = factories.student(major)
    bad_check = good.id_number[:17] + ("0" if good.id_number[17] != "0" else "1")
    rows = [
        row_of(good),
        ["李四", bad_check, school.organisation.name, "机电一体化技术", ""],
        ["王五", good.id_number, school.organisation.name, "机电一体化技术", ""],
        ["赵六", factories.id_number(901, district_code="310101"), "不存在的学校", "机电一体化技术", ""],
        ["", factories.id_number(902, district_code="310101"), school.organisation.name, "机电一体化技术", ""],
        ["钱七", 310115200605179031, school.organisation.name, "机电一体化技术", ""],
    ]
    with pytest.raises(ValidationError) as caught:
        service.roster_import(actor=commission, school_year=YEAR, data=xlsx(rows), file_name="名册.xlsx")
    messages = caught.value.messages
    assert any(m.startswith("第3行「证件号码」") and "校验位" in m for m in messages)
    assert any(m.startswith("第4行「证件号码」") and "第2行" in m and "重复" in m for m in messages)
    assert any(m.startswith("第5行「学校」") and "不存在的学校" in m for m in messages)
    assert any(m.startswith("第6行「姓名」") and "不能为空" in m for m in messages)
    assert any(m.startswith("第7行「证件号码」") and "文本" in m for m in messages)
    assert not RosterImport.objects.exists() and not RosterEntry.objects.exists()


def test_a_clean_file_writes_every_row_matched_to_school_and_student(school, commission):
    major = factories.major(school)
    students = [factories.student(major) for _ in range(3)]
    short = school.organisation
    short.short_name = "测试简称"
    short.save(update_fields=["short_name"])
    rows = [row_of(s) for s in students[:2]] + [row_of(students[2], school="测试简称")]
    roster = service.roster_import(actor=commission, school_year=YEAR, data=xlsx(rows), file_name="名册.xlsx")
    entries = list(roster.entries.order_by("row_number"))
    assert roster.row_count == 3 and [e.row_number for e in entries] == [2, 3, 4]
    assert [e.student for e in entries] == students and {e.school for e in entries} == {school}


def test_only_the_commission_imports_the_roster(school, people):
    with pytest.raises(PermissionDenied):
        service.roster_import(actor=people[Role.CENTRE_REVIEWER], school_year=YEAR, data=xlsx([]))
    page = client_for(people[Role.CENTRE_REVIEWER]).get(reverse("oversight:roster_import"))
    assert page.status_code == 403
    for role in (Role.COMMISSION_OFFICER, Role.COMMISSION_DEPT_OFFICER):
        assert client_for(people[role]).get(reverse("oversight:roster_import")).status_code == 200


def test_the_import_runs_as_a_job_and_a_failed_job_lists_the_rows(
    school, commission, django_capture_on_commit_callbacks
):
    major = factories.major(school)
    s = factories.student(major)
    client = client_for(commission)
    url = reverse("oversight:roster_import")
    template = client.get(reverse("oversight:roster_template"))
    assert [c.value for c in load_workbook(BytesIO(template.content)).active[1]] == HEADERS
    with django_capture_on_commit_callbacks(execute=True):
        bad = client.post(
            url, {"school_year": YEAR, "file": SimpleUploadedFile("名册.xlsx", xlsx([row_of(s, school="无此校")]))}
        )
    job = Job.objects.get(pk=int(bad["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert job.status == JobStatus.FAILED and any("第2行「学校」" in e for e in job.errors)
    assert not RosterImport.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post(url, {"school_year": YEAR, "file": SimpleUploadedFile("名册.xlsx", xlsx([row_of(s)]))})
    job = Job.objects.get(pk=int(ok["Location"].rstrip("/").rsplit("/", 1)[1]))
    roster = RosterImport.objects.get()
    assert job.status == JobStatus.SUCCEEDED and job.result["roster_id"] == roster.pk and roster.job == job
    assert roster.school_year == YEAR and job.progress == job.total == 1


# --- Reconciliation ------------------------------------------------------------------------------


@dataclass
class World:
    roster: RosterImport
    rows: dict  # label -> student
    school: object
    other_school: object


@pytest.fixture
def world(commission) -> World:
    """A hand-made roster: one row per category at school A (district 310115), two rows at school B (310112)."""
    i = issued(3)  # three candidates of school A, each with a certificate not reported to the centre
    a = i.plan.institution.school
    exact, renamed, absent = (c.student for c in i.b.candidates)
    moved_major = add_candidates(i.b, 1)[0].student  # a candidate without a certificate
    other_major = factories.major(a, code="460399", name="数控技术")
    wrong_id = factories.student(a.majors.first())
    b = factories.school(district_code="310112")
    b_major = factories.major(b)
    at_b = factories.student(b_major)
    moved_school = factories.student(b_major)
    rows = [
        row_of(exact),
        row_of(renamed, name="张冠李戴"),
        row_of(moved_major, major=other_major.name, code=other_major.code),
        row_of(wrong_id, id_number=factories.id_number(777, district_code="310101")),
        ["查无此人", factories.id_number(778, district_code="310101"), a.organisation.name, "机电一体化技术", ""],
        row_of(moved_school, school=a.organisation.name),
        row_of(at_b),
    ]
    roster = service.roster_import(actor=commission, school_year=YEAR, data=xlsx(rows), file_name="2026名册.xlsx")
    labels = {
        "exact": exact,
        "renamed": renamed,
        "absent": absent,
        "moved_major": moved_major,
        "wrong_id": wrong_id,
        "moved_school": moved_school,
        "at_b": at_b,
    }
    return World(roster, labels, a, b)


def _ids(qs) -> set[str]:
    return {r.id_number for r in qs}


def test_each_mismatch_category_is_found_on_a_hand_made_roster(world, commission):
    r, s = world.roster, world.rows
    counts = selectors.category_counts(r, user=commission)
    assert counts == {
        "not_in_roster": 1,
        "unreported": 2,
        "name": 1,
        "id_number": 1,
        "school": 1,
        "major": 1,
        "not_found": 1,
        "rows": 7,
    }
    rows = lambda key: selectors.category_rows(r, key, user=commission)  # noqa: E731
    assert _ids(rows("not_in_roster")) == {s["absent"].id_number}
    assert _ids(rows("unreported")) == {s["exact"].id_number, s["renamed"].id_number}
    assert _ids(rows("name")) == {s["renamed"].id_number}
    assert _ids(rows("major")) == {s["moved_major"].id_number}
    assert _ids(rows("school")) == {s["moved_school"].id_number}
    assert [e.name for e in rows("id_number")] == [s["wrong_id"].name]
    assert [e.name for e in rows("not_found")] == ["查无此人"]


def test_a_reported_certificate_leaves_the_unreported_category(world, commission):
    from certificates.services import reporting

    i_plan = world.rows["exact"].candidacies.get().plan
    reporting.report_submit(
        plan=i_plan, actor=factories.user(Role.SCHOOL_STAFF, organisation=world.school.organisation)
    )
    assert selectors.category_counts(world.roster, user=commission)["unreported"] == 0


def test_a_district_bureau_sees_only_its_districts_rows_in_the_report_and_both_exports(world, people):
    bureau = people[Role.DISTRICT_HR_OFFICER]  # district 310115, world.school's district
    assert world.school.organisation.district.code == "310115"
    counts = selectors.category_counts(world.roster, user=bureau)
    assert counts["rows"] == 6 and counts["not_in_roster"] == 1
    other_bureau = factories.user(
        Role.DISTRICT_HR_OFFICER, organisation=factories.organisation("district_hr", district_code="310112")
    )
    other_counts = selectors.category_counts(world.roster, user=other_bureau)
    assert other_counts["rows"] == 1 and other_counts["not_in_roster"] == 0 and other_counts["school"] == 0
    client = client_for(other_bureau)
    edu = load_workbook(BytesIO(client.get(reverse("oversight:roster_export_edu", args=[world.roster.pk])).content))
    assert [r[2] for r in edu.active.iter_rows(min_row=2, values_only=True)] == [world.rows["at_b"].id_number]
    hr = load_workbook(BytesIO(client.get(reverse("oversight:roster_export_hr", args=[world.roster.pk])).content))
    assert list(hr.active.iter_rows(min_row=2, values_only=True)) == []
    page = client.get(reverse("oversight:roster_detail", args=[world.roster.pk]) + "?category=school")
    assert world.rows["moved_school"].id_number not in page.content.decode()


def test_school_staff_see_only_their_own_schools_rows(world, people):
    staff_b = factories.user(Role.SCHOOL_STAFF, organisation=world.other_school.organisation)
    assert selectors.category_counts(world.roster, user=staff_b)["rows"] == 1
    staff_a = factories.user(Role.SCHOOL_STAFF, organisation=world.school.organisation)
    assert selectors.category_counts(world.roster, user=staff_a)["rows"] == 6
    for role in (Role.EXPERT, Role.QUALITY_SUPERVISOR):
        assert (
            client_for(people[role]).get(reverse("oversight:roster_detail", args=[world.roster.pk])).status_code == 403
        )


def test_exports_carry_certificate_status_and_mismatch_flags(world, commission):
    client = client_for(commission)
    edu = load_workbook(BytesIO(client.get(reverse("oversight:roster_export_edu", args=[world.roster.pk])).content))
    header, *rows = list(edu.active.iter_rows(values_only=True))
    by_id = {r[2]: dict(zip(header, r, strict=True)) for r in rows}
    exact = by_id[world.rows["exact"].id_number]
    assert exact["证书数"] == 1 and exact["已报送市职鉴中心"] == "否" and exact["证书编号"]
    assert by_id[world.rows["renamed"].id_number]["姓名不一致"] == "是"
    assert by_id[world.rows["moved_school"].id_number]["学校不一致"] == "是"
    hr = load_workbook(BytesIO(client.get(reverse("oversight:roster_export_hr", args=[world.roster.pk])).content))
    header, *rows = list(hr.active.iter_rows(values_only=True))
    by_id = {r[1]: dict(zip(header, r, strict=True)) for r in rows}
    assert set(by_id) == {world.rows[k].id_number for k in ("exact", "renamed", "absent", "moved_major")}
    assert by_id[world.rows["absent"].id_number]["名册中无此人"] == "是"
    assert by_id[world.rows["absent"].id_number]["证书未报送"] == "是"
    assert by_id[world.rows["renamed"].id_number]["姓名不一致"] == "是"
    assert by_id[world.rows["moved_major"].id_number]["专业不一致"] == "是"
    assert by_id[world.rows["exact"].id_number]["名册中无此人"] is None


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_report_answers_in_a_constant_number_of_queries(world, commission):
    client = client_for(commission)
    urls = [
        reverse("oversight:roster_detail", args=[world.roster.pk]) + f"?category={c.key}" for c in selectors.CATEGORIES
    ]
    client.get(urls[0])  # the session's first request loads more than the page does
    before = [_queries(client, u) for u in urls]
    a = world.school
    major = a.majors.first()
    extra = [factories.student(major) for _ in range(12)]
    rows = [row_of(s, name=s.name + "甲") for s in extra] + [row_of(world.rows["exact"])]
    bigger = service.roster_import(actor=commission, school_year=YEAR, data=xlsx(rows), file_name="再次.xlsx")
    assert selectors.category_counts(bigger, user=commission)["name"] == 12
    after = [
        _queries(client, reverse("oversight:roster_detail", args=[bigger.pk]) + f"?category={c.key}")
        for c in selectors.CATEGORIES
    ]
    # An empty category skips the page's row query; otherwise the same number, whatever the size.
    assert max(after) <= max(before) and max(before) <= 16, (before, after)
    page = client.get(reverse("oversight:roster_detail", args=[world.roster.pk])).content.decode()
    assert "已被同一学年的新名册取代" in page


def test_the_pages_show_what_to_do_next(world, commission, people):
    listing = client_for(commission).get(reverse("oversight:roster_list")).content.decode()
    assert "导入名册" in listing and "2026名册.xlsx" in listing
    centre_listing = client_for(people[Role.CENTRE_REVIEWER]).get(reverse("oversight:roster_list")).content.decode()
    assert "导入名册" not in centre_listing and "2026名册.xlsx" in centre_listing


def test_school_year_bounds_follow_the_academic_year():
    assert selectors.year_bounds(2026) == (dt.date(2026, 9, 1), dt.date(2027, 8, 31))


def test_a_passport_number_is_accepted_and_a_short_digit_string_is_not(school, commission):
    major = factories.major(school)
    s = factories.student(major)
    rows = [row_of(s), ["John Smith", "E12345678", school.organisation.name, major.name, ""]]
    roster = service.roster_import(actor=commission, school_year=YEAR, data=xlsx(rows))
    assert roster.entries.count() == 2
    with pytest.raises(ValidationError) as caught:
        service.roster_import(actor=commission, school_year=YEAR, data=xlsx([row_of(s, id_number="31011520")]))
    assert caught.value.messages[0].startswith("第2行「证件号码」")


def test_seed_demo_imports_a_roster_with_deliberate_mismatches_once(commission):
    import time_machine

    from oversight.demo_parts import roster as demo
    from portal.demo import DemoContext

    i = issued(3)
    for _ in range(5):
        factories.student(i.plan.institution.school.majors.first())
    ctx = DemoContext(password="demo")
    ctx.users["commission"] = commission
    with time_machine.travel(dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC), tick=False):
        demo.build(ctx)
        demo.build(ctx)
    roster = RosterImport.objects.get()
    counts = selectors.category_counts(roster, user=commission)
    assert counts["not_in_roster"] == 1 and counts["name"] == 1 and counts["major"] == 1
    assert counts["id_number"] == 1 and counts["not_found"] == 1
