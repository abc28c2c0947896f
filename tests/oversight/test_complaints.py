"""Complaints (issue 10 item 4; notice 二(四)1): the public form, its honeypot and rate limit, the
receipt, the status lookup, and the centre's triage into a case or an answer."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from oversight.models import Complaint, ComplaintEvent, ComplaintStatus, ViolationCase
from oversight.selectors.complaints import complaints_for, pending_complaint_count
from oversight.services import complaints as service
from portal.models import Counter, Notification, Role
from tests import factories
from tests.access_expectations.institutions_directory import institution_for
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

NEW = reverse("oversight:complaint_new")
STATUS = reverse("oversight:complaint_status")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def institution(school):
    staff = factories.user(Role.SCHOOL_STAFF, organisation=school.organisation)
    return institution_for(school, created_by=staff)


@pytest.fixture
def other_institution(other_school):
    staff = factories.user(Role.SCHOOL_STAFF, organisation=other_school.organisation)
    return institution_for(other_school, created_by=staff)


def _form(institution, **over) -> dict:
    return {
        "complainant_kind": "parent",
        "name": "王女士",
        "contact": "13800001111",
        "institution": institution.pk,
        "about": "2026年11月 焊工四级",
        "body": "考场内有人使用手机，监考人员未制止。",
        **over,
    }


def _number_of(response) -> str:
    page = Client().get(response["Location"]).content.decode()
    return re.search(r'data-testid="complaint-number">([^<]+)<', page).group(1)


def test_anyone_sends_a_complaint_without_logging_in_and_gets_a_numbered_receipt(institution, people):
    response = Client().post(NEW, _form(institution))
    assert response.status_code == 302
    number = _number_of(response)
    complaint = Complaint.objects.get()
    assert complaint.number == number and re.fullmatch(r"TS\d{4}-\d{6}", number)
    assert complaint.client_hash and "127.0.0.1" not in complaint.client_hash
    assert complaint.status == ComplaintStatus.RECEIVED and complaint.institution == institution
    event = ComplaintEvent.objects.get(complaint=complaint)
    assert (event.action, event.to_status, event.actor) == ("submit", ComplaintStatus.RECEIVED, None)
    centre = people[Role.CENTRE_REVIEWER]
    assert Notification.objects.filter(
        recipient=centre, link=reverse("oversight:complaint_detail", args=[complaint.pk])
    ).exists()
    assert not Notification.objects.filter(recipient=people[Role.SCHOOL_STAFF]).exists()


def test_complaint_numbers_come_from_the_shared_counter(institution):
    Client().post(NEW, _form(institution))
    Client().post(NEW, _form(institution, contact="a@example.com"))
    numbers = sorted(Complaint.objects.values_list("number", flat=True))
    assert [n[-6:] for n in numbers] == ["000001", "000002"]
    assert Counter.objects.filter(key__startswith="complaint:").get().value == 2


def test_honeypot_stores_nothing_but_answers_as_if_accepted(institution, people):
    counter_before = Counter.objects.count()
    response = Client().post(NEW, _form(institution, website="http://spam.example"))
    assert response.status_code == 302
    assert re.fullmatch(r"TS\d{4}-\d{6}", _number_of(response))
    assert not Complaint.objects.exists() and not ComplaintEvent.objects.exists()
    assert not Notification.objects.exists() and Counter.objects.count() == counter_before


def test_an_incomplete_form_keeps_what_was_typed_and_says_what_is_missing(institution):
    response = Client().post(NEW, _form(institution, contact="", body="考场秩序混乱"))
    page = response.content.decode()
    assert response.status_code == 200 and not Complaint.objects.exists()
    assert "考场秩序混乱" in page and "王女士" in page and "2026年11月 焊工四级" in page
    assert "这个字段是必填项" in page or "该字段是必填项" in page


def test_the_form_is_rate_limited_per_client_with_a_chinese_message_keeping_the_text(institution, settings):
    settings.PORTAL_COMPLAINT_RATE = "2/h"
    for _ in range(2):
        assert Client().post(NEW, _form(institution)).status_code == 302
    refused = Client().post(NEW, _form(institution, body="第三次反映的内容"))
    page = refused.content.decode()
    assert refused.status_code == 429 and "提交过于频繁" in page and "第三次反映的内容" in page
    assert Complaint.objects.count() == 2
    other = Client(REMOTE_ADDR="10.0.0.9").post(NEW, _form(institution))
    assert other.status_code == 302 and Complaint.objects.count() == 3


def test_the_form_needs_a_csrf_token(institution):
    response = Client(enforce_csrf_checks=True).post(NEW, _form(institution))
    assert response.status_code == 403 and not Complaint.objects.exists()


def test_a_forged_receipt_link_is_not_found():
    assert Client().get(reverse("oversight:complaint_receipt", args=["TS2026-000001"])).status_code == 404


def _submitted(institution, **over) -> Complaint:
    return service.complaint_submit(
        complainant_kind="student",
        contact="139-0000 2222",
        body="评价前收取额外费用。",
        institution=institution,
        **over,
    )


def test_the_complainant_reads_status_and_answer_with_number_and_contact(institution, people):
    complaint = _submitted(institution)
    service.complaint_close(complaint=complaint, actor=people[Role.CENTRE_REVIEWER], answer="经核查，费用已退还。")
    page = Client().post(STATUS, {"number": complaint.number.lower(), "contact": "13900002222"}).content.decode()
    assert "已答复办结" in page and "经核查，费用已退还。" in page


def test_a_wrong_contact_reads_the_same_as_an_unknown_number(institution):
    complaint = _submitted(institution)
    wrong = Client().post(STATUS, {"number": complaint.number, "contact": "13911112222"}).content.decode()
    unknown = Client().post(STATUS, {"number": "TS1999-000001", "contact": "13900002222"}).content.decode()
    assert 'data-testid="complaint-not-found"' in wrong and 'data-testid="complaint-not-found"' in unknown
    strip = lambda page: re.sub(r'value="[^"]*"|csrfmiddlewaretoken[^>]*', "", page)  # noqa: E731
    assert strip(wrong) == strip(unknown)


def test_status_lookups_are_rate_limited_in_chinese(institution, settings):
    settings.PORTAL_COMPLAINT_LOOKUP_RATE = "1/h"
    complaint = _submitted(institution)
    Client().post(STATUS, {"number": complaint.number, "contact": "x"})
    refused = Client().post(STATUS, {"number": complaint.number, "contact": "13900002222"})
    assert refused.status_code == 429 and "查询过于频繁" in refused.content.decode()
    assert complaint.body not in refused.content.decode()


def test_the_centre_answers_and_closes_with_a_required_answer(institution, people):
    complaint = _submitted(institution)
    centre = client_for(people[Role.CENTRE_REVIEWER])
    url = reverse("oversight:complaint_detail", args=[complaint.pk])
    empty = centre.post(url, {"action": "close", "close-answer": ""})
    assert empty.status_code == 200 and "必填" in empty.content.decode()
    assert centre.post(url, {"action": "close", "close-answer": "已转告学校整改。"}).status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.CLOSED and complaint.answered_by == people[Role.CENTRE_REVIEWER]
    event = complaint.events.get(action="close")
    assert event.actor == people[Role.CENTRE_REVIEWER] and event.from_status == ComplaintStatus.RECEIVED
    assert complaint.history.latest().history_user == people[Role.CENTRE_REVIEWER]
    again = centre.post(url, {"action": "close", "close-answer": "再答复一次"})
    assert again.status_code == 409


def test_the_centre_opens_a_case_from_a_complaint(institution, people):
    complaint = _submitted(institution)
    centre = client_for(people[Role.CENTRE_REVIEWER])
    url = reverse("oversight:complaint_detail", args=[complaint.pk])
    response = centre.post(
        url,
        {
            "action": "open_case",
            "case-institution": institution.pk,
            "case-title": "收取额外费用",
            "case-facts": "学生反映收费。",
        },
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    case = ViolationCase.objects.get(complaint=complaint)
    assert complaint.status == ComplaintStatus.CASE_OPENED and case.source == "complaint"
    assert case.institution == institution and complaint.events.get(action="open_case").comment == case.number
    # The case links back to the complaint it came from.
    case_page = centre.get(reverse("oversight:case_detail", args=[case.pk])).content.decode()
    assert f'href="{url}"' in case_page and complaint.number in case_page


def test_only_the_centre_triages_readers_may_look(institution, other_institution, people):
    complaint = _submitted(institution)
    url = reverse("oversight:complaint_detail", args=[complaint.pk])
    for role in (Role.MUNICIPAL_HR_OFFICER, Role.DISTRICT_HR_OFFICER):
        c = client_for(people[role])
        assert c.get(url).status_code == 200
        assert c.post(url, {"action": "close", "close-answer": "答复"}).status_code == 403
    for role in (Role.SCHOOL_STAFF, Role.COMMISSION_OFFICER, Role.EXPERT):
        assert client_for(people[role]).get(url).status_code == 403
    assert Client().get(url).status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RECEIVED


def test_a_district_bureau_reads_only_complaints_about_its_district(institution, other_institution, people):
    mine, theirs, unnamed = _submitted(institution), _submitted(other_institution), _submitted(None)
    district = people[Role.DISTRICT_HR_OFFICER]
    assert list(complaints_for(district)) == [mine]
    assert pending_complaint_count(district) == 1
    assert pending_complaint_count(people[Role.CENTRE_REVIEWER]) == 3
    c = client_for(district)
    assert c.get(reverse("oversight:complaint_detail", args=[theirs.pk])).status_code == 404
    assert c.get(reverse("oversight:complaint_detail", args=[unnamed.pk])).status_code == 404
    export = c.get(reverse("oversight:complaint_export"))
    from io import BytesIO

    from openpyxl import load_workbook

    numbers = [r[0] for r in load_workbook(BytesIO(export.content)).active.iter_rows(min_row=2, values_only=True)]
    assert numbers == [mine.number]


def test_the_list_filters_by_status_in_a_constant_number_of_queries(institution, people, django_assert_max_num_queries):
    centre = client_for(people[Role.CENTRE_REVIEWER])
    url = reverse("oversight:complaint_list")
    _submitted(institution)
    centre.get(url)
    with django_assert_max_num_queries(12) as small:
        centre.get(url)
    for _ in range(15):
        _submitted(institution)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = centre.get(url + "?status=received")
    assert page.content.decode().count('href="/oversight/complaints/') >= 16
    closed = Complaint.objects.first()
    service.complaint_close(complaint=closed, actor=people[Role.CENTRE_REVIEWER], answer="已办结")
    assert closed.number not in centre.get(url + "?status=received").content.decode()
