"""The staffing pages as the school, the centre and a person on a batch use them."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import BatchRoom, BatchStaff, Duty, PlanStatus, RoomPart, StaffingStandard
from portal.models import Occupation, Role
from tests import factories
from tests.assessments.test_staffing import TODAY, Batch
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


def detail(b: Batch) -> str:
    return reverse("assessments:plan_detail", args=[b.plan.pk])


def test_the_school_staffs_a_batch_through_the_pages_and_files_it():
    b = Batch()
    staff = client_for(b.staff)
    page = staff.get(detail(b)).content.decode()
    assert 'data-testid="staffing"' in page and "尚未安排“理论考试”考场" in page
    add_room = reverse("assessments:staffing_room_add", args=[b.plan.pk])
    form = staff.get(add_room).content.decode()
    assert "容纳30人，有音视频监控" in form and "实操考核" in form and "过程考核模块" not in form
    body = {
        "room": b.rooms["实训室A"].pk,
        "part": RoomPart.PRACTICAL,
        "starts_at": "2026-12-10T13:00",
        "ends_at": "2026-12-10T16:00",
        "candidates_expected": 25,
    }
    # Over the room's capacity: the form again with the rule and what was typed.
    refused = staff.post(add_room, body)
    html = refused.content.decode()
    assert refused.status_code == 200 and "超过其容纳人数20人" in html and 'value="2026-12-10T13:00"' in html
    assert not BatchRoom.objects.exists()
    assert staff.post(add_room, {**body, "candidates_expected": 10}).status_code == 302
    theory = {**body, "room": b.rooms["301"].pk, "part": RoomPart.THEORY, "starts_at": "2026-12-10T09:00"}
    assert staff.post(add_room, {**theory, "ends_at": "2026-12-10T11:00"}).status_code == 302
    practical, theory_room = BatchRoom.objects.get(part="practical"), BatchRoom.objects.get(part="theory")

    page = staff.get(detail(b)).content.decode()
    assert "10 / 20" in page and "有" in page and 'data-testid="staffing-problems"' in page
    assert "每个实操考场至少3名考评人员" in page and "每个理论考场至少2名监考人员" in page

    add_staff = reverse("assessments:staffing_staff_add", args=[b.plan.pk])
    assert "selected>「实训室A」" in staff.get(add_staff + f"?room={practical.pk}").content.decode()
    people = [b.person(full_name=f"考评{i}") for i in range(3)]
    for p in people:
        r = staff.post(add_staff, {"duty": Duty.EXAMINER, "room": practical.pk, "person": p.pk})
        assert r.status_code == 302, r.content.decode()
    expert = factories.user(Role.EXPERT, username="expert-wang")
    r = staff.post(add_staff, {"duty": Duty.INVIGILATOR, "room": theory_room.pk, "invited_username": "expert-wang"})
    assert r.status_code == 302 and BatchStaff.objects.get(person=expert).invited
    unknown = staff.post(add_staff, {"duty": Duty.INVIGILATOR, "room": theory_room.pk, "invited_username": "nobody"})
    assert "没有用户名为“nobody”的有效账号" in unknown.content.decode()
    # Twice the same duty: refused with the message, nothing written.
    twice = staff.post(add_staff, {"duty": Duty.EXAMINER, "room": practical.pk, "person": people[0].pk})
    assert twice.status_code == 200 and "已是考场" in twice.content.decode()
    assert BatchStaff.objects.filter(person=people[0]).count() == 1
    staff.post(add_staff, {"duty": Duty.INVIGILATOR, "room": theory_room.pk, "person": b.person().pk})
    second = b.person()
    assert staff.post(add_staff, {"duty": Duty.INTERNAL_SUPERVISOR, "person": second.pk}).status_code == 302
    second_row = BatchStaff.objects.get(person=second)
    page = staff.get(detail(b)).content.decode()
    assert "外聘" in page and "考评0" in page and 'data-testid="staffing-problems"' not in page

    # Remove one examiner through its confirmation page: the warning comes back.
    row = BatchStaff.objects.filter(room=practical).first()
    remove = reverse("assessments:staffing_staff_remove", args=[b.plan.pk, row.pk])
    assert "确定要撤销" in staff.get(remove).content.decode()
    assert staff.post(remove).status_code == 302
    assert "每个实操考场至少3名考评人员" in staff.get(detail(b)).content.decode()
    submit = staff.post(reverse("assessments:plan_act", args=[b.plan.pk, "submit"]))
    assert submit.status_code == 409 and "每个实操考场至少3名考评人员" in submit.content.decode()
    staff.post(add_staff, {"duty": Duty.EXAMINER, "room": practical.pk, "person": b.person().pk})
    assert staff.post(reverse("assessments:plan_act", args=[b.plan.pk, "submit"])).status_code == 302
    b.plan.refresh_from_db()
    assert b.plan.status == PlanStatus.SUBMITTED
    # Filed: no more add or remove buttons, and the pages answer 409.
    page = staff.get(detail(b)).content.decode()
    assert 'data-testid="room-add"' not in page
    assert staff.get(add_room).status_code == 409
    # The invited expert reaches this batch and sees the duty on the home page.
    expert_client = client_for(expert)
    assert expert_client.get(detail(b)).status_code == 200
    home = expert_client.get(reverse("home")).content.decode()
    assert "我的考务安排" in home and "监考人员" in home
    assert expert_client.get(add_room).status_code == 403
    # Accepted, then changed: the school opens it for a change through the plan's own step page.
    centre = client_for(b.cast.centre)
    assert centre.post(reverse("assessments:plan_act", args=[b.plan.pk, "accept"]), {"comment": ""}).status_code == 302
    page = staff.get(detail(b)).content.decode()
    assert 'data-action="amend"' in page
    assert (
        staff.post(reverse("assessments:plan_act", args=[b.plan.pk, "amend"]), {"comment": "更换监考"}).status_code
        == 302
    )
    page = staff.get(detail(b)).content.decode()
    assert 'data-testid="plan-changes"' in page and "与已备案版本相同" in page and 'data-testid="room-add"' in page
    staff.post(reverse("assessments:staffing_staff_remove", args=[b.plan.pk, second_row.pk]))
    assert "撤销人员" in staff.get(detail(b)).content.decode()


def test_room_remove_takes_its_staff_with_it_through_the_confirmation_page():
    b = Batch()
    theory = b.room("301", RoomPart.THEORY, 9, 11)
    b.put(theory, 2)
    staff = client_for(b.staff)
    url = reverse("assessments:staffing_room_remove", args=[b.plan.pk, theory.pk])
    page = staff.get(url).content.decode()
    assert "「301」" in page and "随之撤销" in page
    assert staff.post(url).status_code == 302
    assert not BatchRoom.objects.exists() and not BatchStaff.objects.exists()


def test_the_centre_edits_staffing_standards_through_the_pages():
    b = Batch()
    centre = client_for(b.cast.centre)
    listing = centre.get(reverse("assessments:standard_list")).content.decode()
    assert "默认值，尚未保存" in listing
    create = reverse("assessments:standard_create")
    body = {
        "theory_candidates_per_invigilator": 15,
        "theory_min_invigilators": 3,
        "practical_candidates_per_examiner": 5,
        "practical_min_examiners": 3,
        "practical_examiners_odd": "on",
        "full_mark": 100,
        "pass_mark": 60,
        "source": "通用规则（中心2026年修订）",
    }
    assert centre.post(create, body).status_code == 302
    common = StaffingStandard.objects.get(occupation__isnull=True)
    assert common.theory_min_invigilators == 3 and common.updated_by == b.cast.centre
    again = centre.post(create, body)
    assert again.status_code == 200 and StaffingStandard.objects.count() == 1
    welder = b.row.occupation
    assert centre.post(create, {**body, "occupation": welder.pk, "theory_min_invigilators": 2}).status_code == 302
    own = StaffingStandard.objects.get(occupation=welder)
    edit = reverse("assessments:standard_edit", args=[own.pk])
    bad = centre.post(edit, {**body, "pass_mark": 120})
    assert bad.status_code == 200 and "合格分数线" in bad.content.decode()
    assert centre.post(edit, {**body, "practical_candidates_per_examiner": 4}).status_code == 302
    own.refresh_from_db()
    assert own.practical_candidates_per_examiner == 4
    page = centre.get(edit).content.decode()
    assert "修改考务配置标准" in page and "实操考场每名考评人员对应考生数" in page and "5 → 4" in page
    listing = centre.get(reverse("assessments:standard_list")).content.decode()
    assert str(welder) in listing and "通用规则（中心2026年修订）" in listing
    # The batch page names the standard it applies.
    assert "每4名考生至少1名考评人员" in client_for(b.staff).get(detail(b)).content.decode()
    assert client_for(b.staff).get(reverse("assessments:standard_list")).status_code == 403


def test_the_standards_list_keeps_a_constant_number_of_queries():
    centre = client_for(factories.user(Role.CENTRE_REVIEWER))
    url = reverse("assessments:standard_list")
    occupations = list(Occupation.objects.filter(kind="skill")[:12])
    StaffingStandard.objects.create(occupation=occupations[0])
    centre.get(url)
    with CaptureQueriesContext(connection) as small:
        centre.get(url)
    for occupation in occupations[1:]:
        StaffingStandard.objects.create(occupation=occupation, updated_by=factories.user(Role.CENTRE_REVIEWER))
    with CaptureQueriesContext(connection) as large:
        assert centre.get(url).content.decode().count('data-testid="standard-row"') == 12
    assert len(large) == len(small)


def test_the_batch_page_staffing_section_keeps_a_constant_number_of_queries():
    from django.test import RequestFactory

    from assessments.views.staffing import section_context

    b = Batch()
    request = RequestFactory().get("/")
    request.user = b.staff

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            section_context(request, b.plan)
        return len(ctx)

    b.put(b.room("301", RoomPart.THEORY, 9, 10), 2)
    b.put(b.room("实训室A", RoomPart.PRACTICAL, 13, 14, candidates=10), 3)
    b.put(None, 1, Duty.INTERNAL_SUPERVISOR)
    b.candidate()
    small = count()
    for hour, name in ((10, "301"), (11, "302"), (12, "301")):
        b.put(b.room(name, RoomPart.THEORY, hour, hour + 1), 2)
    b.put(b.room("实训室A", RoomPart.PRACTICAL, 14, 16, candidates=10), 3)
    b.put(None, 1, Duty.INTERNAL_SUPERVISOR)
    b.candidate()
    b.candidate()
    assert count() == small


def test_an_examiner_declares_a_conflict_and_the_school_is_told():
    from assessments import services
    from assessments.models import ConflictDeclaration
    from portal.models import Notification

    b = Batch()
    b.well_staffed()
    candidate = b.candidate()
    services.plan_submit(plan=b.plan, actor=b.staff)
    services.plan_accept(plan=b.plan, actor=b.cast.centre)
    examiner = BatchStaff.objects.filter(duty=Duty.EXAMINER).first().person
    invigilator = BatchStaff.objects.filter(duty=Duty.INVIGILATOR).first().person
    url = reverse("assessments:staffing_conflict_declare", args=[b.plan.pk])
    assert client_for(invigilator).get(url).status_code == 403  # only examiners
    me = client_for(examiner)
    assert 'data-testid="conflict-declare"' in me.get(detail(b)).content.decode()
    empty = me.post(url, {"candidate": candidate.pk, "reason": " "})
    assert empty.status_code == 200 and not ConflictDeclaration.objects.exists()
    assert me.post(url, {"candidate": candidate.pk, "reason": "表兄弟"}).status_code == 302
    assert ConflictDeclaration.objects.get().person == examiner
    told = Notification.objects.filter(recipient=b.staff).order_by("-id").first()
    assert told is not None and "申报回避" in str(told.title)
    again = me.post(url, {"candidate": candidate.pk, "reason": "表兄弟"})
    assert "已申报与考生" in again.content.decode()
    # The accepted plan now breaks the rule: the school sees it and changes the plan.
    page = client_for(b.staff).get(detail(b)).content.decode()
    assert "请变更评价计划" in page and "考评人员不得评价其申报回避的考生" in page
