"""One assessment batch from plan to accepted results, through the real pages (issue 8, "Done when").

School staff plan the batch, put rooms, staff and candidates on it and file it; the centre
accepts it and sends an external quality supervisor; on the day the supervisor records a visit;
after it the school records attendance and scores and files the results; the supervisor files a
report; the centre reviews and accepts the results. A second test shows a refused candidate and a
refused staffing plan, each with its message.

The clock is moved with time-machine (process-wide, so the live server sees it too): the batch is
planned on Thursday 26 November 2026 for Thursday 10 December, held that day, and its results are
filed the next day. Sessions are not carried across a move: every step logs in afresh.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlparse

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from assessments.models import Candidate, EvaluationPlan, Outcome, PlanStatus, ResultStatus
from institutions.models import ExamRoom, Institution
from portal.models import Role
from schools.models import Student
from tests import factories
from tests.assessments.candidate_builders import unique_id
from tests.institutions.builders import Cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
pytestmark.append(pytest.mark.needs("chromium"))

PASSWORD = "batch-pass-2026"
PLANNED = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)  # 17:00 in Shanghai, a Thursday
HELD = dt.datetime(2026, 12, 10, 3, 0, tzinfo=dt.UTC)  # 11:00 on the day
AFTER = dt.datetime(2026, 12, 11, 1, 0, tzinfo=dt.UTC)  # the next morning


def path_of(page: Page) -> str:
    return urlparse(page.url).path


def log_in(context_factory, user) -> Page:
    context: BrowserContext = context_factory()
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert path_of(page) == "/", f"{user.username}: landed on {page.url}"
    return page


def named(user, full_name: str):
    user.full_name = full_name
    user.set_password(PASSWORD)
    user.save(update_fields=["full_name", "password"])
    return user


def submit_main_form(page: Page, button_text: str | None = None) -> None:
    form_button = page.locator("main form button[type=submit]")
    if button_text:
        form_button = form_button.filter(has_text=button_text)
    with page.expect_navigation():
        form_button.first.click()


@pytest.fixture
def world():
    with time_machine.travel(PLANNED, tick=True) as traveller:
        cast = Cast(factories.school(name="浦江智能制造职业技术学院"))
        cast.filed()
        institution = Institution.objects.get(school=cast.school)
        site = institution.sites.get()
        ExamRoom.objects.create(site=site, name="实训车间A", capacity=20, av_monitoring=True)
        org = cast.school.organisation
        staff = named(cast.staff, "林晓雯")
        teachers = [
            named(factories.user(Role.SCHOOL_STAFF, organisation=org), name)
            for name in ("王建国", "李秀英", "张志强", "刘海燕", "陈立新", "杨丽华")
        ]
        centre = named(cast.centre, "陈思远")
        supervisor = named(factories.user(Role.QUALITY_SUPERVISOR), "周督导")
        major = institution.occupations.get().application.occupations.get().majors.get()
        students = [
            Student.objects.create(
                school=cast.school,
                major=major,
                student_number=f"2024{n:04d}",
                name=name,
                id_number=unique_id(500 + n),
                enrolment_year=2024,
                expected_graduation=dt.date(2027, 6, 30),
            )
            for n, name in enumerate(("赵子涵", "钱欣怡", "孙浩然", "李宇轩", "周俊杰", "吴思远"), start=1)
        ]
        yield {
            "traveller": traveller,
            "cast": cast,
            "institution": institution,
            "staff": staff,
            "teachers": teachers,
            "centre": centre,
            "supervisor": supervisor,
            "students": students,
        }


def _plan_batch(page: Page, w) -> EvaluationPlan:
    page.goto("/assessments/new/")
    page.select_option("#id_occupation", index=1)
    page.select_option("#id_level", "4")
    page.select_option("#id_site", index=1)
    page.select_option("#id_method", "result")
    page.fill("#id_starts_at", "2026-12-10T08:30")
    page.fill("#id_ends_at", "2026-12-10T17:00")
    submit_main_form(page)
    expect(page.locator("main .alert-success")).to_contain_text("评价计划已保存为草稿")
    # The results due date shows as soon as the plan has an end date: 5 working days after 10 December.
    expect(page.locator("main")).to_contain_text("2026-12-17")
    return EvaluationPlan.objects.get(institution=w["institution"])


def _add_room(page: Page, plan, room: str, part: str, start: str, end: str, n: int) -> None:
    page.goto(f"/assessments/{plan.pk}/rooms/add/")
    options = page.locator("#id_room option")
    for i in range(options.count()):
        if room in options.nth(i).inner_text():
            page.select_option("#id_room", index=i)
            break
    page.select_option("#id_part", part)
    page.fill("#id_starts_at", start)
    page.fill("#id_ends_at", end)
    page.fill("#id_candidates_expected", str(n))
    submit_main_form(page)
    assert path_of(page) == f"/assessments/{plan.pk}/", page.locator("main").inner_text()


def _add_staff(page: Page, plan, duty: str, person, room_label: str | None = None) -> None:
    page.goto(f"/assessments/{plan.pk}/staff/add/")
    page.select_option("#id_duty", duty)
    if room_label:
        options = page.locator("#id_room option")
        for i in range(options.count()):
            if room_label in options.nth(i).inner_text():
                page.select_option("#id_room", index=i)
                break
    options = page.locator("#id_person option")
    for i in range(options.count()):
        if person.full_name in options.nth(i).inner_text():
            page.select_option("#id_person", index=i)
            break
    submit_main_form(page)
    assert path_of(page) == f"/assessments/{plan.pk}/", page.locator("main").inner_text()


def _pick(page: Page, plan, students) -> None:
    page.goto(f"/assessments/{plan.pk}/candidates/pick/")
    for s in students:
        page.locator(f"input[name=student][value='{s.pk}']").check()
    submit_main_form(page, "加入勾选的学生")


def _step(page: Page, plan, action: str, comment: str = "") -> None:
    page.goto(f"/assessments/{plan.pk}/")
    page.locator(f"[data-action='{action}']").click()
    page.wait_for_load_state()
    if comment:
        page.fill("#id_comment", comment)
    submit_main_form(page)


def test_a_batch_goes_from_plan_to_accepted_results(browser_context_factory, world):
    w = world
    teachers = w["teachers"]

    # --- The school plans the batch, with rooms, staff and candidates, and files it.
    school = log_in(browser_context_factory, w["staff"])
    plan = _plan_batch(school, w)
    _add_room(school, plan, "301", "theory", "2026-12-10T08:30", "2026-12-10T10:30", 6)
    _add_room(school, plan, "实训车间A", "practical", "2026-12-10T13:00", "2026-12-10T17:00", 6)
    for person in teachers[:2]:
        _add_staff(school, plan, "invigilator", person, "301")
    for person in teachers[2:5]:
        _add_staff(school, plan, "examiner", person, "实训车间A")
    _add_staff(school, plan, "internal_supervisor", teachers[5])
    _pick(school, plan, w["students"])
    expect(school.locator("[data-testid=candidate-count]")).to_contain_text("6")
    expect(school.locator("[data-testid=staffing-problems]")).to_have_count(0)
    _step(school, plan, "submit")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED

    # --- The centre accepts it and sends an external quality supervisor.
    centre = log_in(browser_context_factory, w["centre"])
    _step(centre, plan, "accept", "同意备案。")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACCEPTED
    centre.goto(f"/assessments/{plan.pk}/supervision/assign/")
    options = centre.locator("#id_supervisor option")
    for i in range(options.count()):
        if "周督导" in options.nth(i).inner_text():
            centre.select_option("#id_supervisor", index=i)
    submit_main_form(centre)
    expect(centre.locator("[data-testid=supervision-assignment]")).to_contain_text("周督导")

    # --- On the day: the supervisor sees the batch (and no other) and records a visit.
    w["traveller"].move_to(HELD)
    supervisor = log_in(browser_context_factory, w["supervisor"])
    supervisor.goto("/assessments/")
    expect(supervisor.locator("main")).to_contain_text(f"#{plan.pk}")
    supervisor.goto(f"/assessments/{plan.pk}/")
    expect(supervisor.locator("[data-testid=candidates]")).to_contain_text("赵子涵")
    supervisor.locator("[data-testid=supervision] a", has_text="记录督导").first.click()
    supervisor.wait_for_load_state()
    supervisor.fill("#id_visited_at", "2026-12-10T10:30")
    supervisor.fill("#id_notes", "抽查理论考场，核验考生身份，音视频监控正常。")
    submit_main_form(supervisor)
    expect(supervisor.locator("[data-testid=supervision]")).to_contain_text("音视频监控正常")

    # --- The next day the school records attendance and scores and files the results.
    w["traveller"].move_to(AFTER)
    school = log_in(browser_context_factory, w["staff"])
    school.goto(f"/assessments/{plan.pk}/results/attendance/")
    candidates = list(Candidate.objects.filter(plan=plan).order_by("student__student_number"))
    absent = candidates[-1]
    for c in candidates:
        school.select_option(f"[name=att-{c.pk}]", "absent" if c == absent else "present")
    submit_main_form(school, "保存考试情况")
    school.goto(f"/assessments/{plan.pk}/results/scores/")
    marks = {c.pk: ("78", "85") for c in candidates[:-1]}
    marks[candidates[0].pk] = ("55", "90")  # fails theory
    for pk, (theory, practical) in marks.items():
        school.fill(f"[name=s-{pk}-theory]", theory)
        school.fill(f"[name=s-{pk}-practical]", practical)
    # A typo first: the grid comes back with everything typed and the row named.
    school.fill(f"[name=s-{candidates[1].pk}-practical]", "850")
    submit_main_form(school)
    expect(school.locator("main")).to_contain_text(candidates[1].student.name)
    expect(school.locator(f"[name=s-{candidates[2].pk}-theory]")).to_have_value("78")
    school.fill(f"[name=s-{candidates[1].pk}-practical]", "85")
    submit_main_form(school)
    school.goto(f"/assessments/{plan.pk}/")
    school.locator("[data-testid=results-section] a", has_text="报送评价结果").first.click()
    school.wait_for_load_state()
    submit_main_form(school)
    assert plan.results.__class__.objects.get(plan=plan).status == ResultStatus.SUBMITTED

    # --- The supervisor files the report; the centre reviews and accepts the results.
    supervisor = log_in(browser_context_factory, w["supervisor"])
    supervisor.goto(f"/assessments/{plan.pk}/")
    supervisor.locator("[data-testid=supervision] a", has_text="督导报告").first.click()
    supervisor.wait_for_load_state()
    supervisor.fill("#id_report", "考务组织规范，考场纪律良好，未发现违规。")
    submit_main_form(supervisor)
    centre = log_in(browser_context_factory, w["centre"])
    centre.goto(f"/assessments/{plan.pk}/results/review/")
    expect(centre.locator("[data-testid=results-status]")).to_contain_text("已报送")
    centre.locator("a", has_text="审核通过").first.click()
    centre.wait_for_load_state()
    submit_main_form(centre)
    outcomes = dict(Candidate.objects.filter(plan=plan).values_list("student__name", "outcome"))
    assert outcomes == {
        "赵子涵": Outcome.FAILED,
        "钱欣怡": Outcome.PASSED,
        "孙浩然": Outcome.PASSED,
        "李宇轩": Outcome.PASSED,
        "周俊杰": Outcome.PASSED,
        "吴思远": Outcome.ABSENT,
    }
    centre.goto(f"/assessments/{plan.pk}/")
    expect(centre.locator("[data-testid=results-section]")).to_contain_text("审核通过")
    expect(centre.locator("[data-testid=supervision-report]")).to_contain_text("考场纪律良好")
    assert timezone.localdate() == dt.date(2026, 12, 11)


def test_a_refused_candidate_and_a_refused_staffing_plan_say_why(browser_context_factory, world):
    w = world
    teachers = w["teachers"]
    other_major = factories.major(w["cast"].school, code="530302", name="大数据与会计")
    unrelated = Student.objects.create(
        school=w["cast"].school,
        major=other_major,
        student_number="20240099",
        name="郑会计",
        id_number=unique_id(599),
        enrolment_year=2024,
        expected_graduation=dt.date(2027, 6, 30),
    )
    school = log_in(browser_context_factory, w["staff"])
    plan = _plan_batch(school, w)
    _add_room(school, plan, "301", "theory", "2026-12-10T08:30", "2026-12-10T10:30", 6)
    _add_staff(school, plan, "invigilator", teachers[0], "301")  # one: the rule wants two

    # A graduating-year student of a major that does not correspond to the occupation: refused,
    # named with the rule, nothing written, the ticks kept.
    school.goto(f"/assessments/{plan.pk}/candidates/pick/")
    school.locator(f"input[name=student][value='{w['students'][0].pk}']").check()
    school.locator(f"input[name=student][value='{unrelated.pk}']").check()
    submit_main_form(school, "加入勾选的学生")
    problems = school.locator("[data-testid=problems]")
    expect(problems).to_contain_text("郑会计")
    expect(problems).to_contain_text("大数据与会计")
    expect(school.locator(f"input[name=student][value='{w['students'][0].pk}']")).to_be_checked()
    assert not Candidate.objects.filter(plan=plan).exists()

    # Filing a plan whose theory room has one invigilator: refused with the room, the number and the rule.
    _pick(school, plan, w["students"])
    _step(school, plan, "submit")
    main = school.locator("main")
    expect(main).to_contain_text("301")
    expect(main).to_contain_text("监考人员")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
