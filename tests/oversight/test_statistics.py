"""Statistics (issue 10 item 6): certificates and pass rates, subsidy-eligible holders, teachers'
workload; materialised figures with their as-of time; each reader's scope, exports included."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from assessments.models import BatchRoom, BatchStaff, Candidate, Duty, Outcome, RoomPart
from certificates.models import Certificate, CertificateStatus
from oversight.models import Summary
from oversight.selectors import statistics as selectors
from oversight.services.statistics import figures_refresh
from portal.models import Role
from tests import factories
from tests.assessments.test_results_builders import AFTER_BATCH, BATCH_DAY, at
from tests.certificates.test_records_builders import issued
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def _sheet(response, name):
    assert response.status_code == 200, response.status_code
    return list(load_workbook(io.BytesIO(response.content))[name].iter_rows(values_only=True))


@pytest.fixture
def city():
    """Two schools in two districts: one with 3 certificates (one revoked), one with 1; an absent
    and a failed candidate in the first school's batch."""
    a = issued(3)
    b = issued(1)
    b_district = factories.district("310112")
    b.b.cast.school.organisation.district = b_district
    b.b.cast.school.organisation.save(update_fields=["district"])
    Certificate.objects.filter(pk=a.certificates[0].pk).update(status=CertificateStatus.REVOKED)
    Candidate.objects.filter(pk=a.b.candidates[1].pk).update(outcome=Outcome.FAILED)
    extra = Candidate.objects.create(
        plan=a.plan,
        student=factories.student(a.b.cast.school.majors.first()),
        occupation=a.plan.occupation.occupation,
        level=a.plan.level,
        added_by=a.staff,
        outcome=Outcome.ABSENT,
    )
    return a, b, extra


def _people(a, b):
    centre = a.centre
    bureau_a = factories.user(
        Role.DISTRICT_HR_OFFICER,
        organisation=factories.organisation("district_hr", district_code=a.b.cast.school.organisation.district.code),
    )
    bureau_b = factories.user(
        Role.DISTRICT_HR_OFFICER, organisation=factories.organisation("district_hr", district_code="310112")
    )
    return centre, bureau_a, bureau_b


def test_certificates_are_counted_by_district_and_school_with_revoked_apart(city):
    a, b, _extra = city
    centre, _bureau_a, _bureau_b = _people(a, b)
    r = client_for(centre).get(reverse("oversight:statistics"), {"by": "school"})
    table = r.context["table"]
    by_label = {row.label: row for row in table.rows}
    row_a = by_label[a.b.cast.school.organisation.name]
    assert (row_a.valid, row_a.revoked) == (2, 1)
    assert by_label[b.b.cast.school.organisation.name].valid == 1
    assert (table.total.valid, table.total.revoked) == (3, 1)
    r = client_for(centre).get(reverse("oversight:statistics"), {"by": "district"})
    assert {row.key: row.valid for row in r.context["table"].rows} == {"310115": 2, "310112": 1}
    r = client_for(centre).get(reverse("oversight:statistics"), {"by": "level", "district": "310112"})
    assert [(row.key, row.valid) for row in r.context["table"].rows] == [(4, 1)]
    r = client_for(centre).get(reverse("oversight:statistics"), {"by": "year"})
    assert [(row.key, row.valid) for row in r.context["table"].rows] == [(2026, 3)]


def test_the_pass_rate_is_passed_over_passed_and_failed_with_absent_apart(city):
    a, b, _extra = city
    centre, _, _ = _people(a, b)
    fig = selectors.figures(user=centre)
    row = selectors.table(fig, by="school", filters=selectors.Filters(school=a.b.cast.school.pk)).total
    assert (row.passed, row.failed, row.absent) == (2, 1, 1)
    assert row.pass_rate == pytest.approx(2 / 3)
    page = client_for(centre).get(reverse("oversight:statistics"), {"by": "school"}).content.decode()
    assert "66.7%" in page


def test_each_table_is_exported_as_a_sheet_with_the_filters_applied(city):
    a, b, _ = city
    centre, _, _ = _people(a, b)
    r = client_for(centre).get(reverse("oversight:statistics_export"), {"district": "310115"})
    wb = load_workbook(io.BytesIO(r.content))
    assert {"按区", "按学校", "按职业（工种）", "按等级", "按年度", "导出说明"} <= set(wb.sheetnames)
    rows = list(wb["按学校"].iter_rows(values_only=True))
    assert rows[-1][:3] == ("合计", 2, 1)


def test_a_district_bureau_sees_only_its_district_exports_included(city):
    a, b, _ = city
    _centre, bureau_a, bureau_b = _people(a, b)
    r = client_for(bureau_b).get(reverse("oversight:statistics"), {"by": "school"})
    assert [row.label for row in r.context["table"].rows] == [b.b.cast.school.organisation.name]
    # Asking for another district's school by filter is refused as a choice; the page stays in scope.
    r = client_for(bureau_b).get(reverse("oversight:statistics"), {"by": "school", "school": a.b.cast.school.pk})
    assert r.context["form"].errors["school"]
    assert [row.label for row in r.context["table"].rows] == [b.b.cast.school.organisation.name]
    rows = _sheet(client_for(bureau_b).get(reverse("oversight:statistics_export")), "按学校")
    assert [row[0] for row in rows[1:-1]] == [b.b.cast.school.organisation.name]
    figures_refresh()  # the stored city row is narrowed the same way
    r = client_for(bureau_b).get(reverse("oversight:statistics"), {"by": "school"})
    assert [row.label for row in r.context["table"].rows] == [b.b.cast.school.organisation.name]
    assert r.context["as_of"] is not None
    subsidy = _sheet(client_for(bureau_b).get(reverse("oversight:statistics_subsidy_export")), "补贴申领名单")
    assert [row[0] for row in subsidy[1:]] == [b.certificates[0].name]
    subsidy_a = _sheet(client_for(bureau_a).get(reverse("oversight:statistics_subsidy_export")), "补贴申领名单")
    assert len(subsidy_a) == 1 + 2  # two valid certificates, the revoked one left out
    overview = selectors.city_overview(bureau_b)
    assert overview["certificates"] == 1 and overview["institutions"] == 1


def test_pages_state_the_as_of_time_of_stored_figures_and_fall_back_to_live(city):
    a, b, _ = city
    centre, _, _ = _people(a, b)
    c = client_for(centre)
    r = c.get(reverse("oversight:statistics"))
    assert r.context["as_of"] is None and "实时统计" in r.content.decode()
    assert c.post(reverse("oversight:statistics_refresh")).status_code == 302
    stored = Summary.objects.get(name=selectors.FIGURES, scope="")
    r = c.get(reverse("oversight:statistics"))
    assert r.context["as_of"] == stored.computed_at
    # A certificate revoked after the refresh counts once the figures are refreshed again.
    Certificate.objects.filter(pk=a.certificates[1].pk).update(status=CertificateStatus.REVOKED)
    assert c.get(reverse("oversight:statistics")).context["table"].total.revoked == 1
    figures_refresh()
    assert c.get(reverse("oversight:statistics")).context["table"].total.revoked == 2


def test_only_the_centre_refreshes_the_figures_and_only_by_post(city):
    a, b, _ = city
    centre, bureau_a, _ = _people(a, b)
    assert client_for(bureau_a).post(reverse("oversight:statistics_refresh")).status_code == 403
    assert client_for(a.staff).post(reverse("oversight:statistics_refresh")).status_code == 403
    assert client_for(centre).get(reverse("oversight:statistics_refresh")).status_code == 405
    assert not Summary.objects.exists()


def test_subsidy_holders_are_graduating_year_students_with_a_valid_certificate_masked_on_screen(city):
    a, b, _ = city
    centre, _, _ = _people(a, b)
    later = a.certificates[2].candidate.student
    type(later).objects.filter(pk=later.pk).update(expected_graduation=dt.date(2028, 6, 30))
    r = client_for(a.staff).get(reverse("oversight:statistics_subsidy"), {"school_year": 2026})
    listed = [c.pk for c in r.context["page"]]
    assert listed == [a.certificates[1].pk]
    page = r.content.decode()
    assert a.certificates[1].masked_id_number in page and a.certificates[1].id_number not in page
    rows = _sheet(
        client_for(a.staff).get(reverse("oversight:statistics_subsidy_export"), {"school_year": 2026}), "补贴申领名单"
    )
    assert rows[1][2] == a.certificates[1].id_number and rows[1][10] == "四级/中级工"
    r = client_for(a.staff).get(reverse("oversight:statistics_subsidy"), {"school_year": 2027})
    assert [c.pk for c in r.context["page"]] == [a.certificates[2].pk]


def test_the_stored_subsidy_list_matches_the_live_one_in_every_scope_and_states_its_time(city):
    a, b, _ = city
    centre, bureau_a, bureau_b = _people(a, b)
    readers = (centre, bureau_a, bureau_b, a.staff, b.staff)
    page, export = reverse("oversight:statistics_subsidy"), reverse("oversight:statistics_subsidy_export")

    def listed(user):
        r = client_for(user).get(page)
        return r, [c.pk for c in r.context["page"]], _sheet(client_for(user).get(export), "补贴申领名单")

    live = {u.pk: listed(u) for u in readers}
    assert live[centre.pk][0].context["as_of"] is None and "实时名单" in live[centre.pk][0].content.decode()
    assert len(live[centre.pk][1]) == 3 and live[bureau_b.pk][1] == [b.certificates[0].pk]
    figures_refresh()
    marker = Summary.objects.get(name=selectors.SUBSIDY, scope="")
    for u in readers:
        r, pks, sheet = listed(u)
        assert r.context["as_of"] == marker.computed_at
        assert (pks, sheet) == live[u.pk][1:]
    assert "名单统计时间" in r.content.decode()
    # A certificate revoked after the refresh leaves the stored list at the next refresh.
    Certificate.objects.filter(pk=a.certificates[1].pk).update(status=CertificateStatus.REVOKED)
    assert a.certificates[1].pk in listed(centre)[1]
    figures_refresh()
    assert a.certificates[1].pk not in listed(centre)[1] and len(listed(centre)[1]) == 2


def test_full_id_numbers_are_exported_only_to_the_roles_allowed(city):
    a, b, _ = city
    officer = factories.user(Role.COMMISSION_OFFICER)
    rows = _sheet(client_for(officer).get(reverse("oversight:statistics_subsidy_export")), "补贴申领名单")
    ids = {row[2] for row in rows[1:]}
    assert ids and all("*" in i for i in ids)
    assert "完整证件号码只向" in client_for(officer).get(reverse("oversight:statistics_subsidy")).content.decode()
    hr = factories.user(Role.MUNICIPAL_HR_OFFICER)
    rows = _sheet(client_for(hr).get(reverse("oversight:statistics_subsidy_export")), "补贴申领名单")
    assert all("*" not in row[2] for row in rows[1:])


def _staffed(a):
    """A practical room with 3 candidates and the school's staff member as its examiner."""
    room = a.b.cast.school.institution.sites.get().rooms.first()
    batch_room = BatchRoom.objects.create(
        plan=a.plan,
        room=room,
        part=RoomPart.PRACTICAL,
        starts_at=at(BATCH_DAY),
        ends_at=at(BATCH_DAY, 17),
        candidates_expected=3,
    )
    BatchStaff.objects.create(plan=a.plan, person=a.staff, duty=Duty.EXAMINER, room=batch_room, added_by=a.staff)
    return batch_room


def test_workload_counts_batches_days_and_candidates_per_person_and_duty(city):
    a, b, _ = city
    centre, _, _ = _people(a, b)
    _staffed(a)
    with time_machine.travel(AFTER_BATCH, tick=False):
        persons, schools = selectors.workload(user=centre, year=2026)
    by_person = {p.person_id: p for p in persons}
    teacher = by_person[a.staff.pk]
    examiner = teacher.duties[Duty.EXAMINER]
    assert (examiner.batches, examiner.days, examiner.candidates) == (1, 1, 3)
    supervisor = by_person[a.b.supervisor.pk].duties[Duty.INTERNAL_SUPERVISOR]
    assert (supervisor.batches, supervisor.candidates) == (1, 4)  # the batch's 4 candidates
    school_row = next(s for s in schools if s.organisation_id == a.staff.organisation_id)
    assert school_row.people == 1 and school_row.total.batches == 1
    # Not yet held: a batch that has not started counts nothing.
    with time_machine.travel(dt.datetime(2026, 11, 30, tzinfo=dt.UTC), tick=False):
        assert selectors.workload(user=centre, year=2026) == ([], [])


def test_a_school_sees_its_own_staffs_workload_and_a_district_bureau_its_district(city):
    a, b, _ = city
    _centre, bureau_a, bureau_b = _people(a, b)
    _staffed(a)
    with time_machine.travel(AFTER_BATCH, tick=False):
        mine, _ = selectors.workload(user=a.staff, year=2026)
        assert [p.person_id for p in mine] == [a.staff.pk]
        theirs, _ = selectors.workload(user=bureau_b, year=2026)
        assert a.staff.pk not in [p.person_id for p in theirs]
        district, _ = selectors.workload(user=bureau_a, year=2026)
        assert a.staff.pk in [p.person_id for p in district]
        rows = _sheet(
            client_for(bureau_b).get(reverse("oversight:statistics_workload_export"), {"year": 2026}), "按人员"
        )
        assert a.staff.username not in [row[1] for row in rows]
        rows = _sheet(
            client_for(a.staff).get(reverse("oversight:statistics_workload_export"), {"year": 2026}), "按人员"
        )
        assert [row[1] for row in rows[1:]] == [a.staff.username]
        assert rows[1][3:6] == (1, 1, 3)


def test_the_stored_workload_matches_the_live_one_in_every_scope_and_states_its_time(city):
    a, b, _ = city
    centre, bureau_a, bureau_b = _people(a, b)
    _staffed(a)
    _staffed(b)
    readers = (centre, bureau_a, bureau_b, a.staff, b.staff)
    page, export = reverse("oversight:statistics_workload"), reverse("oversight:statistics_workload_export")

    def listed(user):
        r = client_for(user).get(page, {"year": 2026})
        shown = [(row["p"], row["cells"]) for row in r.context["rows"]]
        schools = [(row["s"], row["cells"]) for row in r.context["schools"]]
        sheets = [_sheet(client_for(user).get(export, {"year": 2026}), name) for name in ("按人员", "按学校")]
        return r, shown, schools, sheets

    with time_machine.travel(AFTER_BATCH, tick=False):
        live = {u.pk: listed(u) for u in readers}
        assert live[centre.pk][0].context["as_of"] is None and "实时统计" in live[centre.pk][0].content.decode()
        assert len(live[centre.pk][1]) == 4 and [p.person_id for p, _ in live[b.staff.pk][1]] == [b.staff.pk]
        figures_refresh()
        stored = Summary.objects.get(name=selectors.WORKLOAD, scope="year:2026")
        assert len(stored.data["rows"]) == 4
        for u in readers:
            r, *rest = listed(u)
            assert r.context["as_of"] == stored.computed_at
            assert tuple(rest) == live[u.pk][1:], u
        assert "每日自动更新" in r.content.decode()
        # A person added to a batch after the refresh counts at the next refresh.
        BatchStaff.objects.create(
            plan=b.plan, person=b.b.supervisor, duty=Duty.INVIGILATOR, room=b.plan.rooms.first(), added_by=b.staff
        )
        before = [p.person_id for p, _ in listed(centre)[1]]
        figures_refresh()
        after = listed(centre)[1]
        assert before == [p.person_id for p, _ in after]
        assert Duty.INVIGILATOR in next(p for p, _ in after if p.person_id == b.b.supervisor.pk).duties
        # A year the refresh does not hold is computed live.
        assert selectors.workload_of(user=centre, year=2019).as_of is None


def test_city_overview_counts_what_the_dashboards_show_scoped_to_the_user(city):
    a, b, _ = city
    centre, _, bureau_b = _people(a, b)
    overview = selectors.city_overview(centre)
    assert overview["institutions"] == 2 and overview["occupations"] == 2
    assert overview["batches"] == 2 and overview["candidates"] == 5
    assert overview["certificates"] == 3 and overview["revoked"] == 1
    assert overview["pass_rate"] == pytest.approx(3 / 4)
    assert {f["key"] for f in overview.figures} >= {"institutions", "certificates", "pass_rate"}
    assert all(f["url"] for f in overview.figures)
    assert selectors.city_overview(bureau_b)["candidates"] == 1
    assert selectors.city_overview(factories.user(Role.EXPERT))["certificates"] == 0


def test_the_figures_are_computed_in_a_fixed_number_of_queries(city):
    a, b, _ = city
    with CaptureQueriesContext(connection) as small:
        selectors.compute_figures()
    issued(2)
    with CaptureQueriesContext(connection) as large:
        selectors.compute_figures()
    assert len(large) == len(small)


@pytest.mark.parametrize(
    "name", ["oversight:statistics", "oversight:statistics_subsidy", "oversight:statistics_workload"]
)
def test_the_pages_cost_the_same_queries_at_two_sizes(city, name):
    a, b, _ = city
    centre, _, _ = _people(a, b)
    _staffed(a)
    url = reverse(name)
    with time_machine.travel(AFTER_BATCH, tick=False):
        c = client_for(centre)
        c.get(url)
        with CaptureQueriesContext(connection) as small:
            assert c.get(url).status_code == 200
    more = issued(3)
    _staffed(more)
    figures_refresh()
    with time_machine.travel(AFTER_BATCH, tick=False):
        c = client_for(centre)
        c.get(url)
        with CaptureQueriesContext(connection) as large:
            assert c.get(url).status_code == 200
    # The statistics and workload pages read the stored rows instead of computing live: never more
    # queries (and the same at two sizes once stored: ``test_the_stored_workload_costs_…``).
    assert len(large) <= len(small)
    if name == "oversight:statistics_subsidy":
        assert len(large) == len(small)


def test_the_stored_workload_costs_the_same_queries_at_two_sizes(city):
    a, b, _ = city
    centre, _, _ = _people(a, b)
    _staffed(a)
    url = reverse("oversight:statistics_workload")
    counts = []
    for more in (None, issued(3)):
        if more:
            _staffed(more)
        with time_machine.travel(AFTER_BATCH, tick=False):
            figures_refresh()
            c = client_for(centre)
            c.get(url)
            with CaptureQueriesContext(connection) as queries:
                assert c.get(url).context["as_of"] is not None
            counts.append(len(queries))
    assert counts[0] == counts[1]


def test_readers_without_a_statistics_role_are_refused(people):
    for role in (Role.EXPERT, Role.QUALITY_SUPERVISOR):
        c = client_for(people[role])
        for name in ("oversight:statistics", "oversight:statistics_subsidy", "oversight:statistics_workload"):
            assert c.get(reverse(name)).status_code == 403
