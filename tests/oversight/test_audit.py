"""The audit log (issue 10 item 7): written by the history receiver, read within each reader's scope."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from assessments.models import EvaluationPlan
from oversight.models import AuditEntry
from oversight.services import audit as service
from portal.models import Role
from schools.models import Major, Student
from tests import factories
from tests.assessments.test_results_builders import batch
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_a_service_step_writes_an_entry_with_the_acting_user_and_their_organisation():
    b = batch(1)
    ct = ContentType.objects.get_for_model(EvaluationPlan)
    entries = AuditEntry.objects.filter(content_type=ct, object_id=str(b.plan.pk)).order_by("at", "id")
    accepted = [e for e in entries if e.user_id == b.centre.pk]
    assert accepted, "the centre's acceptance of the plan is logged"
    last = accepted[-1]
    assert last.organisation_id == b.centre.organisation_id
    assert last.action == "~"
    history = b.plan.history.get(history_id=last.history_id)
    assert last.reason == (history.history_change_reason or "")
    assert last.at == history.history_date
    created = entries.first()
    assert created.action == "+" and created.user_id == b.staff.pk
    assert created.organisation_id == b.staff.organisation_id


def test_an_entry_costs_one_insert_and_no_query_for_the_name(school):
    major = factories.major(school)
    factories.student(major)  # warm the content type cache
    with CaptureQueriesContext(connection) as ctx:
        Student.objects.create(
            school=school,
            major=major,
            student_number="Q1",
            name="甲",
            id_number=factories.id_number(901),
            enrolment_year=2024,
            expected_graduation=dt.date(2027, 6, 30),
        )
    inserts = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 3  # the student, its history row, its log entry
    assert sum("oversight_auditentry" in sql for sql in inserts) == 1
    assert len(ctx.captured_queries) == 3


def test_a_name_that_would_need_a_query_falls_back_to_type_and_id(school):
    major = factories.major(school)
    student = factories.student(major)
    fresh = Student.objects.get(pk=student.pk)  # str() needs no query: the name is kept
    assert service.object_repr(fresh) == str(student)
    fresh_major = Major.objects.get(pk=major.pk)
    assert service.object_repr(fresh_major) == str(fresh_major)[:200]


def test_history_written_in_bulk_is_not_logged_until_backfilled(school):
    from simple_history.utils import bulk_create_with_history

    major = factories.major(school)
    students = [
        Student(
            school=school,
            major=major,
            student_number=f"B{i}",
            name=f"乙{i}",
            id_number=factories.id_number(700 + i),
            enrolment_year=2024,
            expected_graduation=dt.date(2027, 6, 30),
        )
        for i in range(3)
    ]
    bulk_create_with_history(students, Student)
    ct = ContentType.objects.get_for_model(Student)
    assert not AuditEntry.objects.filter(content_type=ct, object_repr__startswith="B").exists()
    logged_before = AuditEntry.objects.filter(content_type=ct).count()
    call_command("backfill_audit_log", stdout=io.StringIO())
    assert AuditEntry.objects.filter(content_type=ct).count() == logged_before + 3
    call_command("backfill_audit_log", stdout=io.StringIO())  # twice changes nothing
    assert AuditEntry.objects.filter(content_type=ct).count() == logged_before + 3


def _entries_in_two_districts(people, school, other_school):
    factories.major(school)
    factories.major(other_school)
    staff = people[Role.SCHOOL_STAFF]
    other_staff = factories.user(Role.SCHOOL_STAFF, organisation=other_school.organisation)
    AuditEntry.objects.update(organisation=None)
    ct = ContentType.objects.get_for_model(Major)
    now = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
    for who, n in ((staff, 3), (other_staff, 2)):
        for i in range(n):
            AuditEntry.objects.create(
                at=now - dt.timedelta(days=i),
                user=who,
                organisation=who.organisation,
                content_type=ct,
                object_id=str(i),
                object_repr=f"{who.username}-{i}",
                action="~",
                history_id=i,
            )
    return staff, other_staff


def test_the_centre_filters_the_log_by_user_organisation_type_and_date(people, school, other_school):
    staff, other_staff = _entries_in_two_districts(people, school, other_school)
    c = client_for(people[Role.CENTRE_REVIEWER])
    url = reverse("oversight:audit_log")
    ct = ContentType.objects.get_for_model(Major).pk
    r = c.get(url, {"who": other_staff.username})
    assert r.status_code == 200 and r.context["page"].paginator.count == 2
    r = c.get(url, {"organisation": staff.organisation_id, "object_type": ct})
    assert r.context["page"].paginator.count == 3
    r = c.get(url, {"organisation": staff.organisation_id, "date_from": "2026-11-19", "date_to": "2026-11-20"})
    assert r.context["page"].paginator.count == 2
    r = c.get(url, {"date_from": "2026-11-21", "date_to": "2026-11-20"})
    assert "截止日期不能早于起始日期。" in r.content.decode()


def test_a_district_bureau_reads_only_entries_of_organisations_in_its_district_export_included(
    people, school, other_school
):
    staff, other_staff = _entries_in_two_districts(people, school, other_school)
    c = client_for(people[Role.DISTRICT_HR_OFFICER])
    r = c.get(reverse("oversight:audit_log"))
    orgs = {row["entry"].organisation_id for row in r.context["rows"]}
    assert staff.organisation_id in orgs and other_staff.organisation_id not in orgs
    r = c.get(reverse("oversight:audit_log_export"))
    ws = load_workbook(io.BytesIO(r.content))["操作日志"]
    names = {row[3] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert staff.organisation.name in names and other_school.organisation.name not in names
    # Another district's object: its history is out of reach.
    other_major = other_school.majors.first()
    ct = ContentType.objects.get_for_model(Major).pk
    assert c.get(reverse("oversight:audit_object", args=[ct, other_major.pk])).status_code == 404
    own_major = school.majors.first()
    assert c.get(reverse("oversight:audit_object", args=[ct, own_major.pk])).status_code == 200


def test_school_staff_read_their_own_organisations_entries_and_others_are_refused(people, school, other_school):
    staff, other_staff = _entries_in_two_districts(people, school, other_school)
    r = client_for(staff).get(reverse("oversight:audit_log"))
    assert {row["entry"].organisation_id for row in r.context["rows"]} == {staff.organisation_id}
    for role in (Role.EXPERT, Role.QUALITY_SUPERVISOR, Role.COMMISSION_OFFICER):
        assert client_for(people[role]).get(reverse("oversight:audit_log")).status_code == 403


def test_a_type_with_no_scoped_selector_is_shown_to_the_citywide_readers_only(people, school):
    from portal.models import Organisation

    ct = ContentType.objects.get_for_model(Organisation).pk
    url = reverse("oversight:audit_object", args=[ct, school.organisation_id])
    assert client_for(people[Role.CENTRE_REVIEWER]).get(url).status_code == 200
    assert client_for(people[Role.SCHOOL_STAFF]).get(url).status_code == 404


def test_the_export_lists_the_filtered_entries_with_full_columns(people, school, other_school):
    staff, _other = _entries_in_two_districts(people, school, other_school)
    r = client_for(people[Role.MUNICIPAL_HR_OFFICER]).get(
        reverse("oversight:audit_log_export"), {"who": staff.username}
    )
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content))["操作日志"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 3 and {row[2] for row in rows} == {staff.username}


def _log(n: int, user, ct) -> None:
    AuditEntry.objects.bulk_create(
        AuditEntry(
            at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=i),
            user=user,
            organisation=user.organisation,
            content_type=ct,
            object_id=str(i),
            object_repr=f"r{i}",
            action="~",
            history_id=i,
        )
        for i in range(n)
    )


def test_the_log_page_costs_the_same_queries_at_two_sizes(people):
    c = client_for(people[Role.CENTRE_REVIEWER])
    ct = ContentType.objects.get_for_model(Major)
    url = reverse("oversight:audit_log")
    _log(5, people[Role.SCHOOL_STAFF], ct)
    c.get(url)
    with CaptureQueriesContext(connection) as small:
        assert c.get(url).status_code == 200
    _log(120, people[Role.CENTRE_REVIEWER], ct)
    with CaptureQueriesContext(connection) as large:
        assert c.get(url).status_code == 200
    assert len(large) == len(small)
    with CaptureQueriesContext(connection) as export_small:
        c.get(reverse("oversight:audit_log_export"))
    _log(200, people[Role.SCHOOL_STAFF], ct)
    with CaptureQueriesContext(connection) as export_large:
        c.get(reverse("oversight:audit_log_export"))
    assert len(export_large) == len(export_small)


@pytest.mark.django_db
def test_a_login_records_the_time_but_is_not_a_change_of_the_users_record():
    from django.test import Client

    person = factories.user(Role.CENTRE_REVIEWER, password="test-pass-2026")
    histories, entries = person.history.count(), AuditEntry.objects.count()
    response = Client().post(reverse("login"), {"username": person.username, "password": "test-pass-2026"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.last_login is not None
    assert person.history.count() == histories  # no "修改 用户" row per login
    assert AuditEntry.objects.count() == entries
