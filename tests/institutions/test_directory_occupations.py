"""Each filed occupation on its own in the directory (notice annex §3.5; issue 7 item 8).

An occupation is suspended, restored or removed on its own with a public reason; it never
outlives its institution; the directory is searched by institution name, shows address, contact
and sites, highlights the occupations a search matched, and exports for publishing.
"""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from institutions import directory_export, selectors, services
from institutions.models import (
    AssessmentSite,
    ExamRoom,
    Institution,
    InstitutionEvent,
    InstitutionOccupation,
    InstitutionStatus,
)
from institutions.registry_views import OCCUPATION_ACTIONS
from portal.i18n import shown
from portal.models import Notification, Role
from portal.workflow import Authority, TransitionError
from schools.models import Level
from tests import factories
from tests.access_expectations.institutions_directory import institution_for
from tests.conftest import client_for
from tests.institutions.builders import Cast

pytestmark = pytest.mark.django_db

WELDER = "6-18-02-04"
TURNER = "6-18-01-01"
ELECTRICIAN = "6-31-01-03"
St = InstitutionStatus


def filed(school, **kwargs) -> Institution:
    staff = factories.user(Role.SCHOOL_STAFF, organisation=school.organisation)
    return institution_for(school, created_by=staff, **kwargs)


def row_of(inst: Institution, code: str) -> InstitutionOccupation:
    return inst.occupations.get(occupation__code=code)


@pytest.fixture
def inst(school):
    return filed(school, occupations=[(WELDER, Level.LEVEL_5, Level.LEVEL_3), (TURNER, Level.LEVEL_4, Level.LEVEL_4)])


def occupation_url(inst, row, action) -> str:
    return reverse("registry:occupation_act", kwargs={"pk": inst.pk, "row_pk": row.pk, "action": action})


def act(user, inst, row, action, reason="考场监控设备故障，暂停该职业评价"):
    return client_for(user).post(occupation_url(inst, row, action), {"reason": reason})


def page(url: str, client=None, **params) -> str:
    response = (client or Client()).get(url, params)
    assert response.status_code == 200, url
    return response.content.decode()


# --- The transitions -----------------------------------------------------------------------


def test_the_centre_suspends_one_occupation_and_the_institution_stays_listed(inst, people):
    centre, staff = people[Role.CENTRE_REVIEWER], people[Role.SCHOOL_STAFF]
    welder = row_of(inst, WELDER)
    response = act(centre, inst, welder, "suspend", "焊接实训考场监控未覆盖")
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:institution_detail", args=[inst.pk])
    welder.refresh_from_db()
    inst.refresh_from_db()
    assert welder.status == St.SUSPENDED and welder.status_reason == "焊接实训考场监控未覆盖"
    assert inst.status == St.ACTIVE and row_of(inst, TURNER).status == St.ACTIVE
    event = InstitutionEvent.objects.get(occupation=welder)
    assert (event.institution_id, event.action, event.from_status, event.to_status) == (
        inst.pk,
        "suspend",
        St.ACTIVE,
        St.SUSPENDED,
    )
    assert event.actor == centre and event.comment == "焊接实训考场监控未覆盖"
    latest = welder.history.latest()
    assert latest.history_user == centre and shown(latest.history_change_reason) == "暂停：焊接实训考场监控未覆盖"
    titles = [shown(n.title) for n in Notification.objects.filter(recipient=staff)]
    assert any("暂停" in t and "焊工" in t for t in titles), titles


def test_restore_and_remove_take_an_occupation_back_and_out_with_history(inst, people):
    centre = people[Role.CENTRE_REVIEWER]
    welder = row_of(inst, WELDER)
    services.directory_occupation_suspend(row=welder, actor=centre, reason="整改")
    services.directory_occupation_restore(row=welder, actor=centre, reason="整改验收合格")
    welder.refresh_from_db()
    assert welder.status == St.ACTIVE and welder.status_reason == "整改验收合格"
    services.directory_occupation_remove(row=welder, actor=centre, reason="违规发证")
    welder.refresh_from_db()
    assert welder.status == St.REMOVED
    steps = list(InstitutionEvent.objects.filter(occupation=welder).values_list("action", "from_status", "to_status"))
    assert steps == [
        ("suspend", St.ACTIVE, St.SUSPENDED),
        ("restore", St.SUSPENDED, St.ACTIVE),
        ("remove", St.ACTIVE, St.REMOVED),
    ]
    reasons = [shown(h.history_change_reason) for h in welder.history.order_by("history_date", "history_id")][1:]
    assert reasons == ["暂停：整改", "恢复：整改验收合格", "移出目录：违规发证"]
    with pytest.raises(TransitionError) as exc:  # removal is final
        services.directory_occupation_restore(row=welder, actor=centre, reason="x")
    assert "已移出目录" in exc.value.messages[0]


def test_only_the_centre_acts_on_an_occupation_other_roles_get_403(inst, people):
    welder = row_of(inst, WELDER)
    for role in (
        Role.COMMISSION_OFFICER,
        Role.COMMISSION_DEPT_OFFICER,
        Role.MUNICIPAL_HR_OFFICER,
        Role.DISTRICT_HR_OFFICER,
        Role.SCHOOL_STAFF,
    ):
        with pytest.raises(PermissionDenied):
            services.directory_occupation_suspend(row=welder, actor=people[role], reason="x")
        assert act(people[role], inst, welder, "suspend").status_code == 403, role
    assert act(people[Role.EXPERT], inst, welder, "suspend").status_code == 403
    welder.refresh_from_db()
    assert welder.status == St.ACTIVE and not InstitutionEvent.objects.filter(occupation=welder).exists()


def test_a_step_the_occupation_state_does_not_allow_is_a_409(inst, people):
    centre = people[Role.CENTRE_REVIEWER]
    welder = row_of(inst, WELDER)
    with pytest.raises(TransitionError) as exc:
        services.directory_occupation_restore(row=welder, actor=centre, reason="x")
    assert exc.value.messages == ["该职业（工种）当前状态为“有效”，不能恢复。"]
    get = client_for(centre).get(occupation_url(inst, welder, "restore"))
    assert get.status_code == 409 and "不能恢复" in get.content.decode()
    post = act(centre, inst, welder, "restore")
    assert post.status_code == 409 and "该职业（工种）当前状态为“有效”，不能恢复。" in post.content.decode()
    welder.refresh_from_db()
    assert welder.status == St.ACTIVE and welder.history.count() == 1


def test_a_reason_is_required_and_is_public(inst, people):
    welder = row_of(inst, WELDER)
    with pytest.raises(ValidationError):
        services.directory_occupation_suspend(row=welder, actor=people[Role.CENTRE_REVIEWER], reason="  ")
    response = act(people[Role.CENTRE_REVIEWER], inst, welder, "suspend", "   ")
    assert response.status_code == 200 and "是必填项" in response.content.decode()
    welder.refresh_from_db()
    assert welder.status == St.ACTIVE


def test_oversight_suspends_or_removes_an_occupation_with_the_sanction_authority_but_never_restores(inst):
    officer = factories.user(Role.DISTRICT_HR_OFFICER)
    welder = row_of(inst, WELDER)
    with pytest.raises(PermissionDenied):  # by role alone a district officer may not
        services.directory_occupation_suspend(row=welder, actor=officer, reason="违规")
    sanction = Authority(services.SANCTION, "违纪案件 #9")
    services.directory_occupation_suspend(row=welder, actor=officer, reason="违规组织考核", authority=sanction)
    welder.refresh_from_db()
    assert welder.status == St.SUSPENDED and InstitutionEvent.objects.get(occupation=welder).actor == officer
    with pytest.raises(PermissionDenied):
        services.directory_occupation_restore(row=welder, actor=officer, reason="x", authority=sanction)
    services.directory_occupation_remove(row=welder, actor=officer, reason="违规发证", authority=sanction)
    welder.refresh_from_db()
    assert welder.status == St.REMOVED


def test_an_occupation_of_a_removed_institution_or_past_its_date_is_not_restored(inst, people):
    centre = people[Role.CENTRE_REVIEWER]
    welder, turner = row_of(inst, WELDER), row_of(inst, TURNER)
    services.directory_occupation_suspend(row=welder, actor=centre, reason="整改")
    services.directory_occupation_suspend(row=turner, actor=centre, reason="整改")
    InstitutionOccupation.objects.filter(pk=turner.pk).update(valid_until=timezone.localdate() - dt.timedelta(days=1))
    with pytest.raises(TransitionError) as exc:
        services.directory_occupation_restore(row=turner, actor=centre, reason="x")
    assert "有效期已届满" in exc.value.messages[0]
    services.institution_remove(institution=inst, actor=centre, reason="违规")
    with pytest.raises(TransitionError) as exc:
        services.directory_occupation_restore(row=welder, actor=centre, reason="x")
    assert "机构已移出目录" in exc.value.messages[0]


def test_the_page_offers_exactly_the_occupation_steps_the_services_allow(inst, people):
    """``OCCUPATION_ACTIONS`` mirrors the workflow: every status × step agrees with the service."""
    centre = people[Role.CENTRE_REVIEWER]
    welder = row_of(inst, WELDER)
    for status in St.values:
        for name, step in OCCUPATION_ACTIONS.items():
            InstitutionOccupation.objects.filter(pk=welder.pk).update(status=status)
            try:
                with transaction.atomic():
                    step.service(row=welder, actor=centre, reason="核对")
                    allowed = True
                    transaction.set_rollback(True)
            except TransitionError:
                allowed = False
            assert allowed == (status in step.sources), (status, name)


def test_the_registry_detail_offers_per_occupation_steps_to_the_centre_only(inst, people):
    centre = people[Role.CENTRE_REVIEWER]
    welder, turner = row_of(inst, WELDER), row_of(inst, TURNER)
    services.directory_occupation_suspend(row=turner, actor=centre, reason="车工考场整改")
    url = reverse("registry:institution_detail", args=[inst.pk])
    html = page(url, client_for(centre))
    offered = {
        (row.pk, name): occupation_url(inst, row, name) in html
        for row in (welder, turner)
        for name in ("suspend", "restore", "remove")
    }
    assert offered == {
        (welder.pk, "suspend"): True,
        (welder.pk, "restore"): False,
        (welder.pk, "remove"): True,
        (turner.pk, "suspend"): False,
        (turner.pk, "restore"): True,
        (turner.pk, "remove"): True,
    }
    assert "车工考场整改" in html and "目录变更记录" in html
    staff = page(url, client_for(people[Role.SCHOOL_STAFF]))
    assert occupation_url(inst, welder, "suspend") not in staff and "车工考场整改" in staff


def test_a_suspended_removed_or_expired_occupation_cannot_be_planned(inst, people):
    centre = people[Role.CENTRE_REVIEWER]
    today = timezone.localdate()
    plannable = lambda: set(  # noqa: E731
        selectors.plannable_occupations(institution=inst, on=today).values_list("occupation__code", flat=True)
    )
    assert plannable() == {WELDER, TURNER}
    services.directory_occupation_suspend(row=row_of(inst, WELDER), actor=centre, reason="整改")
    assert plannable() == {TURNER}
    services.directory_occupation_remove(row=row_of(inst, TURNER), actor=centre, reason="违规")
    assert plannable() == set()
    services.directory_occupation_restore(row=row_of(inst, WELDER), actor=centre, reason="整改合格")
    assert plannable() == {WELDER}
    InstitutionOccupation.objects.filter(occupation__code=WELDER).update(status=St.EXPIRED)
    assert plannable() == set()


# --- An occupation never outlives its institution ----------------------------------------


START = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)


def test_an_occupations_validity_never_outlives_its_institution_at_confirmation():
    """An occupation added a year after filing ends with the institution, not 3 years later."""
    with time_machine.travel(START, tick=False):
        cast = Cast(factories.school())
        cast.filed()
    inst = Institution.objects.get(school=cast.school)
    from portal.models import Occupation

    with time_machine.travel(START + dt.timedelta(days=365), tick=False):
        Cast(cast.school, staff=cast.staff).filed(
            occupation=Occupation.objects.get(code=ELECTRICIAN, work_type=""), kind="add_occupation"
        )
    inst.refresh_from_db()
    added = row_of(inst, ELECTRICIAN)
    assert added.confirmed_on == dt.date(2027, 11, 25)
    assert added.valid_until == inst.valid_until == dt.date(2029, 11, 24)
    assert not services.directory.occupations_outliving(inst).exists()


def test_an_occupations_validity_never_outlives_its_institution_at_renewal(inst, people):
    centre = people[Role.CENTRE_REVIEWER]
    services.directory_occupation_suspend(row=row_of(inst, TURNER), actor=centre, reason="整改")
    before = row_of(inst, TURNER).valid_until
    services.institution_renew(institution=inst, actor=centre, reason="延续复核通过")
    inst.refresh_from_db()
    assert row_of(inst, WELDER).valid_until == inst.valid_until == services.validity_end(timezone.localdate())
    assert row_of(inst, TURNER).valid_until == before <= inst.valid_until  # a suspended row is not extended
    assert services.occupation_valid_until(inst, inst.valid_until + dt.timedelta(days=400)) == inst.valid_until
    assert not services.directory.occupations_outliving(inst).exists()


def test_an_occupations_validity_never_outlives_its_institution_in_the_expiry_job(inst):
    """A row written past its institution's end (older data, a manual fix) is brought back by the job,
    once, and then expires with its institution."""
    welder = row_of(inst, WELDER)
    InstitutionOccupation.objects.filter(pk=welder.pk).update(valid_until=inst.valid_until + dt.timedelta(days=500))
    first = services.expiry_run(today=timezone.localdate())
    assert first["limited_occupations"] == 1
    welder.refresh_from_db()
    assert welder.valid_until == inst.valid_until
    event = InstitutionEvent.objects.get(occupation=welder)
    assert event.action == "limit_validity" and event.actor is None
    assert "不得超过评价机构有效期" in shown(welder.history.latest().history_change_reason)
    assert services.expiry_run(today=timezone.localdate())["limited_occupations"] == 0
    after_end = services.expiry_run(today=inst.valid_until + dt.timedelta(days=1))
    assert after_end["expired_institutions"] == 1 and after_end["expired_occupations"] == 2
    assert set(inst.occupations.values_list("status", flat=True)) == {St.EXPIRED}


# --- Search, highlight, address and sites ------------------------------------------------


@pytest.fixture
def three(school, other_school):
    xuhui = factories.school(district_code="310104", name="汇川科技职业学院")
    return {
        "pudong": filed(school, occupations=[(WELDER, 5, 3), (ELECTRICIAN, 5, 4)]),
        "huichuan": filed(xuhui, occupations=[(TURNER, 4, 4), (WELDER, 5, 4), (ELECTRICIAN, 4, 3)]),
        "minhang": filed(other_school, occupations=[(ELECTRICIAN, 5, 4)]),
    }


def listed(html: str, institutions: dict) -> set[str]:
    return {k for k, i in institutions.items() if f'href="{reverse("directory_detail", args=[i.pk])}"' in html}


def test_searching_by_institution_name_finds_partial_matches_on_the_directory_and_the_registry(three, people):
    assert listed(page(reverse("directory"), q="汇川"), three) == {"huichuan"}
    assert listed(page(reverse("directory"), q="科技职业"), three) == {"huichuan"}
    assert listed(page(reverse("directory"), q="不存在的学校"), three) == set()
    assert listed(page(reverse("directory"), q="汇川", occupation="焊工"), three) == {"huichuan"}
    assert listed(page(reverse("directory"), q="汇川", occupation="化工"), three) == set()
    registry = page(reverse("registry:institution_list"), client_for(people[Role.CENTRE_REVIEWER]), q="汇川")
    detail = {k for k, i in three.items() if reverse("registry:institution_detail", args=[i.pk]) in registry}
    assert detail == {"huichuan"}


def card_of(html: str, inst: Institution) -> str:
    return html.split(f'id="inst-{inst.pk}"', 1)[1].split("</article>", 1)[0]


def test_a_filtered_result_marks_the_occupations_that_matched_and_lists_them_first(three):
    card = card_of(page(reverse("directory"), occupation="焊工"), three["huichuan"])
    assert card.count("data-matched") == 1 and card.count("<mark>") == 1
    assert card.index("焊工") < card.index("车工") < card.index("电工")  # matched first, then catalogue order
    assert card.index("data-matched") < card.index("车工")
    # Occupation and level on the same row: only electrician 4–3 includes level 3 at huichuan.
    card = card_of(page(reverse("directory"), level=3), three["huichuan"])
    assert card.count("data-matched") == 1 and card.index("电工") < card.index("焊工")
    # No occupation or level term: nothing is marked, catalogue order.
    for params in ({}, {"q": "汇川"}):
        card = card_of(page(reverse("directory"), **params), three["huichuan"])
        assert "data-matched" not in card and "<mark>" not in card
        assert card.index("车工") < card.index("焊工") < card.index("电工")  # catalogue order: 6-18-01, 6-18-02, 6-31


def test_the_registry_list_marks_matched_occupations_too(three, people):
    html = page(reverse("registry:institution_list"), client_for(people[Role.CENTRE_REVIEWER]), occupation="电工")
    assert html.count("<mark>") == 3  # one electrician row per institution


def add_site(inst: Institution, name="实训楼考核站点", address="浦东新区实训路88号3层") -> AssessmentSite:
    site = AssessmentSite.objects.create(
        application=inst.applications.first(), institution=inst, name=name, address=address
    )
    ExamRoom.objects.create(site=site, name="301", capacity=30, av_monitoring=True)
    ExamRoom.objects.create(site=site, name="302", capacity=20, av_monitoring=False)
    return site


def test_the_directory_shows_address_contact_and_assessment_sites(inst, school, people):
    school.address, school.contact_name, school.contact_phone = "浦东新区职教路1号", "陈老师", "021-58880001"
    school.save()
    add_site(inst)
    for html in (
        page(reverse("directory")),
        page(reverse("directory_detail", args=[inst.pk])),
        page(reverse("registry:institution_detail", args=[inst.pk]), client_for(people[Role.CENTRE_REVIEWER])),
    ):
        for text in ("浦东新区职教路1号", "陈老师", "021-58880001", "实训楼考核站点", "浦东新区实训路88号3层"):
            assert text in html, text
        assert "音视频监控" in html
    detail = page(reverse("directory_detail", args=[inst.pk]))
    assert "301 · 30人" in detail and ">50</td>" in detail  # rooms and the site's capacity


def test_an_institution_without_sites_shows_no_site_section(inst):
    assert "考核站点" not in page(reverse("directory_detail", args=[inst.pk])).split("评价职业（工种）")[0]


def test_an_institution_filed_through_the_services_lists_its_declared_sites():
    cast = Cast(factories.school())
    cast.filed()
    inst = Institution.objects.get(school=cast.school)
    html = page(reverse("directory_detail", args=[inst.pk]))
    assert "实训楼考核站点" in html and "实训楼3层" in html


# --- Caching: a per-occupation change shows at once ---------------------------------------


def test_a_per_occupation_change_shows_at_once_on_every_cached_page(inst, people):
    centre = people[Role.CENTRE_REVIEWER]
    urls = [
        reverse("directory"),
        reverse("directory") + "?occupation=焊工",
        reverse("directory_detail", args=[inst.pk]),
    ]
    anonymous, reviewer = Client(), client_for(centre)
    for url in urls:
        assert "焊接考场整改" not in page(url, anonymous)
        assert page(url, anonymous)  # now cached
    assert "焊接考场整改" not in page(reverse("registry:institution_list"), reviewer)
    services.directory_occupation_suspend(row=row_of(inst, WELDER), actor=centre, reason="焊接考场整改")
    for url in urls:
        html = page(url, anonymous)
        assert "焊接考场整改" in html and "暂停" in html, url
    assert ">暂停</span>" in page(reverse("registry:institution_list"), reviewer)
    services.directory_occupation_restore(row=row_of(inst, WELDER), actor=centre, reason="整改合格")
    for url in urls:
        assert "焊接考场整改" not in page(url, anonymous), url


def test_highlighted_entries_are_cached_per_search_and_never_leak_into_the_plain_page(three):
    client = Client()
    assert "data-matched" in page(reverse("directory"), client, occupation="焊工")
    assert "data-matched" not in page(reverse("directory"), client)
    assert "data-matched" not in page(reverse("directory"), client, district=factories.district("310104").pk)
    marked = page(reverse("directory"), client, occupation="车工")
    assert card_of(marked, three["huichuan"]).count("data-matched") == 1


def test_a_new_site_shows_at_once(inst):
    client = Client()
    assert "新建考核站点" not in page(reverse("directory"), client)
    add_site(inst, name="新建考核站点")
    assert "新建考核站点" in page(reverse("directory"), client)


# --- The export ----------------------------------------------------------------------------

EXPECTED_HEADERS = [
    "机构名称",
    "机构代码",
    "统一社会信用代码",
    "所在区",
    "地址",
    "联系人",
    "联系电话",
    "职业编码",
    "职业（工种）",
    "等级范围",
    "评价依据（标准或规范及备案文号）",
    "状态",
    "有效期起",
    "有效期止",
    "状态说明",
]
TEXT_COLUMNS = {"机构代码", "统一社会信用代码", "联系电话", "职业编码"}


def workbook(response):
    assert response.status_code == 200
    assert response["Content-Type"] == directory_export.XLSX
    assert "attachment" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    book = load_workbook(BytesIO(response.content))
    sheet = book[directory_export.SHEET_TITLE]
    rows = list(sheet.iter_rows(values_only=True))
    return book, sheet, rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_the_export_has_the_documented_columns_and_one_row_per_institution_occupation(inst, school, people):
    school.contact_name, school.contact_phone, school.address = "陈老师", "02158880001", "浦东新区职教路1号"
    school.save()
    services.directory_occupation_suspend(
        row=row_of(inst, TURNER), actor=people[Role.CENTRE_REVIEWER], reason="车工考场整改"
    )
    book, sheet, headers, rows = workbook(Client().get(reverse("directory_export")))
    assert list(headers) == EXPECTED_HEADERS == list(directory_export.HEADERS)
    assert [r["职业编码"] for r in rows] == [TURNER, WELDER]
    welder = rows[1]
    assert welder["机构名称"] == school.name and welder["机构代码"] == inst.code
    assert welder["统一社会信用代码"] == school.uscc and welder["所在区"] == "浦东新区"
    assert (welder["地址"], welder["联系人"], welder["联系电话"]) == ("浦东新区职教路1号", "陈老师", "02158880001")
    assert welder["职业（工种）"] == "焊工" and welder["等级范围"] == "五级/初级工 — 三级/高级工"
    assert welder["评价依据（标准或规范及备案文号）"] == "GZB 6-18-02-04 焊工国家职业技能标准"
    assert (welder["状态"], welder["状态说明"]) == ("有效", None)
    assert welder["有效期起"].date() == inst.confirmed_on and welder["有效期止"].date() == inst.valid_until
    assert (rows[0]["状态"], rows[0]["状态说明"]) == ("暂停", "车工考场整改")
    # Identifier columns are text: the cells, and the whole column for rows typed in later.
    for column, header in enumerate(headers, start=1):
        cell = sheet.cell(row=2, column=column)
        if header in TEXT_COLUMNS:
            assert cell.number_format == "@" and isinstance(cell.value, str), header
            assert sheet.column_dimensions[cell.column_letter].number_format == "@", header
        elif header.startswith("有效期"):
            assert cell.number_format == "yyyy-mm-dd", header
    assert sheet.freeze_panes == "A2"
    assert directory_export.NOTES_TITLE in book.sheetnames


def test_the_export_of_a_specification_names_its_filing_reference(school):
    from institutions.models import EvaluationBasis

    filed(school, basis=EvaluationBasis.SPECIFICATION, specification_ref="沪人社职规〔2025〕7号")
    _book, _sheet, _headers, rows = workbook(Client().get(reverse("directory_export")))
    assert rows[0]["评价依据（标准或规范及备案文号）"] == "评价规范（备案文号：沪人社职规〔2025〕7号）"


def test_the_public_export_applies_the_current_search(three):
    _b, _s, _h, rows = workbook(Client().get(reverse("directory_export"), {"q": "汇川"}))
    assert {r["机构名称"] for r in rows} == {three["huichuan"].name} and len(rows) == 3
    _b, _s, _h, rows = workbook(Client().get(reverse("directory_export"), {"occupation": "焊工"}))
    assert sorted(r["职业编码"] for r in rows) == [WELDER, WELDER]  # only the matched rows
    _b, _s, _h, rows = workbook(Client().get(reverse("directory_export"), {"level": 3}))
    assert sorted((r["机构名称"], r["职业编码"]) for r in rows) == sorted(
        [(three["pudong"].name, WELDER), (three["huichuan"].name, ELECTRICIAN)]
    )
    # The page links the export of what it lists.
    html = page(reverse("directory"), q="汇川", occupation="焊工", page=1)
    assert f'href="{reverse("directory_export")}?q=%E6%B1%87%E5%B7%9D&amp;occupation=%E7%84%8A%E5%B7%A5"' in html


def test_the_registry_export_keeps_to_the_users_scope_and_its_status_filter(three, people):
    district = client_for(people[Role.DISTRICT_HR_OFFICER])  # Pudong
    _b, _s, _h, rows = workbook(district.get(reverse("registry:export")))
    assert {r["机构名称"] for r in rows} == {three["pudong"].name}
    services.institution_suspend(institution=three["minhang"], actor=people[Role.CENTRE_REVIEWER], reason="整改")
    centre = client_for(people[Role.CENTRE_REVIEWER])
    _b, _s, _h, rows = workbook(centre.get(reverse("registry:export"), {"status": "suspended"}))
    assert {(r["机构名称"], r["状态"], r["状态说明"]) for r in rows} == {(three["minhang"].name, "暂停", "整改")}


def test_the_export_is_written_in_chinese_whatever_the_readers_language(inst, people):
    services.directory_occupation_suspend(row=row_of(inst, WELDER), actor=people[Role.CENTRE_REVIEWER], reason="整改")
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert 'lang="en"' in page(reverse("directory"), client)  # the reader works in English
    _b, _s, headers, rows = workbook(client.get(reverse("directory_export")))
    assert list(headers) == EXPECTED_HEADERS
    by_code = {r["职业编码"]: r for r in rows}
    assert (by_code[WELDER]["状态"], by_code[TURNER]["状态"]) == ("暂停", "有效")
    assert (by_code[WELDER]["等级范围"], by_code[TURNER]["等级范围"]) == ("五级/初级工 — 三级/高级工", "四级/中级工")


def test_the_export_keeps_a_constant_number_of_queries(school, people, django_assert_max_num_queries):
    filed(school)
    anonymous, centre = Client(), client_for(people[Role.CENTRE_REVIEWER])
    with django_assert_max_num_queries(2) as public_few:
        anonymous.get(reverse("directory_export"), {"occupation": "工", "level": 4})
    with django_assert_max_num_queries(10) as registry_few:
        centre.get(reverse("registry:export"))
    for _ in range(15):
        filed(factories.school(), occupations=[(WELDER, 5, 3), (TURNER, 4, 4), (ELECTRICIAN, 5, 4)])
    with django_assert_max_num_queries(len(public_few.captured_queries)):
        response = anonymous.get(reverse("directory_export"), {"occupation": "工", "level": 4})
    assert len(workbook(response)[3]) == 1 + 15 * 3  # every row assesses level 4 and names a 工
    with django_assert_max_num_queries(len(registry_few.captured_queries)):
        response = centre.get(reverse("registry:export"))
    assert len(workbook(response)[3]) == 1 + 15 * 3


def test_the_layout_is_documented_in_the_order_the_export_writes_it(people):
    doc = (Path(settings.BASE_DIR) / "docs" / "directory-export.md").read_text(encoding="utf-8")
    table = [line for line in doc.splitlines() if line.startswith("| ") and line.split("|")[1].strip().isdigit()]
    assert [line.split("|")[2].strip() for line in table] == EXPECTED_HEADERS
    for line in table:
        header = line.split("|")[2].strip()
        assert ("文本" in line.split("|")[3]) == (header in TEXT_COLUMNS), header
    layout = page(reverse("directory_export_layout"))
    assert all(h in layout for h in EXPECTED_HEADERS)
    registry = page(reverse("registry:institution_list"), client_for(people[Role.CENTRE_REVIEWER]))
    assert reverse("directory_export_layout") in registry and reverse("registry:export") in registry
    assert "docs/directory-export.md" in registry
