"""The public directory (annex §3.5) and the authorities' registry of assessment institutions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from institutions import services
from institutions.models import EvaluationBasis, FilingReceipt, Institution, InstitutionStatus
from institutions.registry_views import ACTIONS
from portal.i18n import shown
from portal.models import Notification, Role
from schools.models import Level
from tests import factories
from tests.access_expectations.institutions_directory import institution_for
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

WELDER = "6-18-02-04"
TURNER = "6-18-01-01"
ELECTRICIAN = "6-31-01-03"


def filed(school, **kwargs) -> Institution:
    staff = factories.user(Role.SCHOOL_STAFF, organisation=school.organisation)
    return institution_for(school, created_by=staff, **kwargs)


def names_in(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def directory(**params) -> str:
    return names_in(Client().get(reverse("directory"), params))


# --- Reading the directory ------------------------------------------------------------


def test_an_anonymous_visitor_reads_the_directory_and_an_entry(school):
    inst = filed(school, occupations=[(WELDER, Level.LEVEL_5, Level.LEVEL_3)])
    client = Client()
    listing = client.get(reverse("directory"))
    html = names_in(listing)
    assert school.name in html and school.organisation.district.name in html
    assert "焊工" in html and "五级/初级工 — 三级/高级工" in html
    assert "GZB 6-18-02-04 焊工国家职业技能标准" in html
    assert inst.valid_until.isoformat() in html and "有效" in html
    detail = names_in(client.get(reverse("directory_detail", args=[inst.pk])))
    assert inst.code in detail and "证书信息" in detail
    assert inst.confirmed_on.isoformat() in detail and inst.valid_until.isoformat() in detail
    assert f'href="{reverse("directory")}"' in detail  # the public header and the breadcrumb lead back


def test_public_pages_may_be_kept_by_shared_caches_for_five_minutes(school):
    inst = filed(school)
    for url in (reverse("directory"), reverse("directory_detail", args=[inst.pk])):
        cache = Client().get(url)["Cache-Control"]
        assert "public" in cache and "max-age=300" in cache, url


def test_a_logged_in_users_copy_is_private_because_it_carries_their_header(school, people):
    inst = filed(school)
    response = client_for(people[Role.CENTRE_REVIEWER]).get(reverse("directory_detail", args=[inst.pk]))
    assert response.status_code == 200
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]


def test_a_specification_entry_shows_its_filing_reference(school):
    filed(school, basis=EvaluationBasis.SPECIFICATION, specification_ref="沪人社职规〔2025〕7号")
    assert "评价规范（沪人社职规〔2025〕7号）" in directory()


def test_an_unknown_entry_is_not_found():
    assert Client().get(reverse("directory_detail", args=[999999])).status_code == 404


# --- Searching ------------------------------------------------------------------------


@pytest.fixture
def three_institutions(school, other_school):
    """Pudong (310115): welding 5–3. Xuhui (310104): turning 4 only. Minhang (310112): electrician 5–4."""
    xuhui = factories.school(district_code="310104")
    return {
        "pudong": filed(school, occupations=[(WELDER, Level.LEVEL_5, Level.LEVEL_3)]),
        "xuhui": filed(xuhui, occupations=[(TURNER, Level.LEVEL_4, Level.LEVEL_4)]),
        "minhang": filed(other_school, occupations=[(ELECTRICIAN, Level.LEVEL_5, Level.LEVEL_4)]),
    }


def found(institutions: dict[str, Institution], **params) -> set[str]:
    """Which of ``institutions`` the public search lists."""
    html = directory(**params)
    return {
        key for key, inst in institutions.items() if f'href="{reverse("directory_detail", args=[inst.pk])}"' in html
    }


def test_the_search_offers_the_16_districts_and_the_five_levels():
    html = directory()
    district_select = html.split('name="district"')[1].split("</select>")[0]
    assert district_select.count('<option value="') == 1 + 16  # "全部区" and the districts
    level_select = html.split('name="level"')[1].split("</select>")[0]
    assert [label in level_select for label in ("五级/初级工", "三级/高级工", "一级/高级技师")] == [True] * 3


def test_searching_by_district_finds_only_that_districts_institutions(three_institutions):
    district = factories.district("310112")
    assert found(three_institutions, district=district.pk) == {"minhang"}
    assert found(three_institutions, district=factories.district("310115").pk) == {"pudong"}
    assert found(three_institutions, district=factories.district("310101").pk) == set()


def test_searching_by_occupation_matches_a_code_prefix_or_a_name(three_institutions):
    assert found(three_institutions, occupation=WELDER) == {"pudong"}
    assert found(three_institutions, occupation="6-18") == {"pudong", "xuhui"}
    assert found(three_institutions, occupation="电工") == {"minhang"}
    assert found(three_institutions, occupation="烹饪") == set()


def test_searching_by_level_finds_institutions_whose_range_includes_it(three_institutions):
    assert found(three_institutions, level=Level.LEVEL_3) == {"pudong"}
    assert found(three_institutions, level=Level.LEVEL_4) == {"pudong", "xuhui", "minhang"}
    assert found(three_institutions, level=Level.LEVEL_5) == {"pudong", "minhang"}
    assert found(three_institutions, level=Level.LEVEL_1) == set()


def test_occupation_and_level_must_hold_on_the_same_directory_row(school):
    """Welding up to 三级 and turning only at 四级: turning at 三级 is not offered."""
    inst = filed(
        school,
        occupations=[(WELDER, Level.LEVEL_5, Level.LEVEL_3), (TURNER, Level.LEVEL_4, Level.LEVEL_4)],
    )
    both = {"both": inst}
    assert found(both, occupation="车工", level=Level.LEVEL_3) == set()
    assert found(both, occupation="车工", level=Level.LEVEL_4) == {"both"}
    assert found(both, occupation="焊工", level=Level.LEVEL_3) == {"both"}


def test_search_terms_combine_and_an_invalid_term_is_reported_not_applied(three_institutions):
    assert found(
        three_institutions, district=factories.district("310115").pk, occupation="焊工", level=Level.LEVEL_3
    ) == {"pudong"}
    assert found(three_institutions, district=factories.district("310104").pk, occupation="焊工") == set()
    html = directory(district="999999", occupation="车工")
    assert "invalid-feedback" in html
    assert found(three_institutions, district="999999", occupation="车工") == {"xuhui"}


def test_the_directory_pages_by_twenty(school):
    for _ in range(21):
        filed(factories.school())
    first = directory()
    assert "第 1 / 2 页" in first and "共 21 家评价机构" in first
    assert "第 2 / 2 页" in directory(page=2)


# --- Statuses -------------------------------------------------------------------------


def test_suspended_and_removed_entries_stay_listed_with_their_public_reason(school, other_school):
    suspended = filed(school, status=InstitutionStatus.SUSPENDED, status_reason="考场监控设备未按要求配置，限期整改")
    removed = filed(other_school, status=InstitutionStatus.REMOVED, status_reason="违规发证，移出目录")
    html = directory()
    assert "暂停" in html and "考场监控设备未按要求配置，限期整改" in html
    assert "已移出目录" in html and "违规发证，移出目录" in html
    detail = names_in(Client().get(reverse("directory_detail", args=[suspended.pk])))
    assert "考场监控设备未按要求配置，限期整改" in detail
    detail = names_in(Client().get(reverse("directory_detail", args=[removed.pk])))
    assert "违规发证，移出目录" in detail


def test_an_active_entry_does_not_publish_its_internal_renewal_note(school):
    filed(school, status_reason="延续备案：复核通过")
    assert "复核通过" not in directory()


def test_an_entry_past_its_validity_shows_as_expired_even_before_the_nightly_job(school, other_school):
    today = timezone.localdate()
    filed(school, confirmed_on=today - dt.timedelta(days=1200), valid_until=today - dt.timedelta(days=1))
    filed(other_school, status=InstitutionStatus.EXPIRED, status_reason="有效期届满")
    html = directory()
    assert html.count(">已过期</span>") >= 4  # two institutions and their occupation rows
    assert ">有效</span>" not in html


# --- Query counts ---------------------------------------------------------------------


def test_the_directory_keeps_a_constant_number_of_queries(school, django_assert_max_num_queries):
    client = Client()
    inst = filed(school, occupations=[(WELDER, Level.LEVEL_5, Level.LEVEL_3)])
    with django_assert_max_num_queries(5) as few_list:
        client.get(reverse("directory"))
    with django_assert_max_num_queries(3) as few_detail:
        client.get(reverse("directory_detail", args=[inst.pk]))
    for _ in range(15):
        filed(factories.school(), occupations=[(WELDER, 5, 3), (TURNER, 4, 4), (ELECTRICIAN, 5, 4)])
    with django_assert_max_num_queries(len(few_list.captured_queries)):
        client.get(reverse("directory"))
    with django_assert_max_num_queries(len(few_list.captured_queries)):
        client.get(reverse("directory"), {"occupation": "工", "level": 4})
    with django_assert_max_num_queries(len(few_detail.captured_queries)):
        client.get(reverse("directory_detail", args=[inst.pk]))


def test_the_registry_list_keeps_a_constant_number_of_queries(school, people, django_assert_max_num_queries):
    client = client_for(people[Role.DISTRICT_HR_OFFICER])
    filed(school)
    with django_assert_max_num_queries(15) as few:
        client.get(reverse("registry:institution_list"))
    for _ in range(15):
        filed(factories.school(), occupations=[(WELDER, 5, 3), (TURNER, 4, 4)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("registry:institution_list"))


# --- The registry ---------------------------------------------------------------------


def act(user, inst, action, reason="整改期间暂停评价") -> object:
    return client_for(user).post(
        reverse("registry:institution_act", kwargs={"pk": inst.pk, "action": action}), {"reason": reason}
    )


def test_the_district_bureau_reads_only_its_districts_institutions(school, other_school, people):
    mine, theirs = filed(school), filed(other_school)
    client = client_for(people[Role.DISTRICT_HR_OFFICER])
    html = names_in(client.get(reverse("registry:institution_list")))
    assert school.name in html and other_school.name not in html
    assert client.get(reverse("registry:institution_detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("registry:institution_detail", args=[theirs.pk])).status_code == 404


def test_the_registry_list_filters_by_status(school, other_school, people):
    filed(school)
    filed(other_school, status=InstitutionStatus.SUSPENDED, status_reason="整改")
    html = names_in(
        client_for(people[Role.CENTRE_REVIEWER]).get(reverse("registry:institution_list"), {"status": "suspended"})
    )
    assert other_school.name in html and school.name not in html


def test_a_centre_reviewer_suspends_an_entry_with_a_recorded_reason(school, people):
    inst = filed(school)
    centre = people[Role.CENTRE_REVIEWER]
    form = client_for(centre).get(reverse("registry:institution_act", kwargs={"pk": inst.pk, "action": "suspend"}))
    assert form.status_code == 200 and "暂停原因" in form.content.decode()
    response = act(centre, inst, "suspend", "考场监控设备未按要求配置")
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:institution_detail", args=[inst.pk])
    inst.refresh_from_db()
    assert inst.status == InstitutionStatus.SUSPENDED and inst.status_reason == "考场监控设备未按要求配置"
    latest = inst.history.latest()
    assert latest.history_user == centre and shown(latest.history_change_reason) == "暂停：考场监控设备未按要求配置"
    assert any("暂停" in shown(n.title) for n in Notification.objects.filter(recipient=people[Role.SCHOOL_STAFF]))
    page = names_in(client_for(centre).get(reverse("registry:institution_detail", args=[inst.pk])))
    assert "暂停：考场监控设备未按要求配置" in page and str(centre) in page
    assert "考场监控设备未按要求配置" in directory()


def test_restore_remove_and_renew_change_the_status_with_history(school, people):
    centre = people[Role.CENTRE_REVIEWER]
    inst = filed(school, status=InstitutionStatus.SUSPENDED, status_reason="整改")
    assert act(centre, inst, "restore", "整改验收合格").status_code == 302
    inst.refresh_from_db()
    assert inst.status == InstitutionStatus.ACTIVE
    assert shown(inst.history.latest().history_change_reason) == "恢复：整改验收合格"

    today = timezone.localdate()
    Institution.objects.filter(pk=inst.pk).update(
        status=InstitutionStatus.EXPIRED, valid_until=today - dt.timedelta(days=3)
    )
    assert act(centre, inst, "renew", "延续复核通过").status_code == 302
    inst.refresh_from_db()
    assert inst.status == InstitutionStatus.ACTIVE and inst.valid_until == services.validity_end(today)
    assert inst.history.latest().history_user == centre

    assert act(centre, inst, "remove", "违规发证").status_code == 302
    inst.refresh_from_db()
    assert inst.status == InstitutionStatus.REMOVED
    assert shown(inst.history.latest().history_change_reason) == "移出目录：违规发证"


def test_a_step_the_state_does_not_allow_is_refused_with_409(school, people):
    centre = people[Role.CENTRE_REVIEWER]
    inst = filed(school)
    url = reverse("registry:institution_act", kwargs={"pk": inst.pk, "action": "restore"})
    get = client_for(centre).get(url)
    assert get.status_code == 409 and "不能恢复" in get.content.decode()
    response = act(centre, inst, "restore", "无")
    assert response.status_code == 409 and "机构当前状态为“有效”，不能恢复。" in response.content.decode()
    inst.refresh_from_db()
    assert inst.status == InstitutionStatus.ACTIVE and inst.history.count() == 1

    Institution.objects.filter(pk=inst.pk).update(status=InstitutionStatus.REMOVED)
    response = act(centre, inst, "renew", "延续")
    assert response.status_code == 409 and "不能延续" in response.content.decode()


def test_only_centre_reviewers_act_other_readers_get_403(school, people):
    inst = filed(school)
    for role in (Role.COMMISSION_OFFICER, Role.MUNICIPAL_HR_OFFICER, Role.DISTRICT_HR_OFFICER, Role.SCHOOL_STAFF):
        assert act(people[role], inst, "suspend").status_code == 403, role
    assert act(people[Role.EXPERT], inst, "suspend").status_code == 403
    inst.refresh_from_db()
    assert inst.status == InstitutionStatus.ACTIVE and inst.history.count() == 1


def test_a_reason_is_required(school, people):
    inst = filed(school)
    response = act(people[Role.CENTRE_REVIEWER], inst, "suspend", "   ")
    assert response.status_code == 200 and "是必填项" in response.content.decode()
    inst.refresh_from_db()
    assert inst.status == InstitutionStatus.ACTIVE


def test_an_unknown_action_is_not_found(school, people):
    inst = filed(school)
    url = reverse("registry:institution_act", kwargs={"pk": inst.pk, "action": "delete"})
    assert client_for(people[Role.CENTRE_REVIEWER]).get(url).status_code == 404


def test_the_page_offers_exactly_the_steps_the_services_allow(school, people):
    """``registry_views.ACTIONS`` mirrors the services' state checks: every status × step agrees."""
    centre = people[Role.CENTRE_REVIEWER]
    inst = filed(school)
    for status in InstitutionStatus.values:
        for name, step in ACTIONS.items():
            Institution.objects.filter(pk=inst.pk).update(status=status)
            try:
                with transaction.atomic():
                    step.service(institution=inst, actor=centre, reason="核对")
                    allowed = True
                    transaction.set_rollback(True)
            except services.TransitionError:
                allowed = False
            assert allowed == (status in step.sources), (status, name)


def test_the_detail_shows_buttons_only_to_the_centre_and_only_for_allowed_steps(school, people):
    inst = filed(school)
    url = reverse("registry:institution_detail", args=[inst.pk])
    centre_page = names_in(client_for(people[Role.CENTRE_REVIEWER]).get(url))
    for name, allowed in {"suspend": True, "remove": True, "renew": True, "restore": False}.items():
        link = reverse("registry:institution_act", kwargs={"pk": inst.pk, "action": name})
        assert (link in centre_page) == allowed, name
    staff_page = names_in(client_for(people[Role.SCHOOL_STAFF]).get(url))
    assert reverse("registry:institution_act", kwargs={"pk": inst.pk, "action": "suspend"}) not in staff_page


def test_the_detail_lists_receipts_and_links_the_pdf_when_the_download_exists(school, people):
    inst = filed(school)
    application = inst.applications.get()
    FilingReceipt.objects.create(
        application=application,
        institution=inst,
        number="沪职鉴备〔2026〕001号",
        issued_at=timezone.now(),
        issued_by=people[Role.CENTRE_REVIEWER],
        pdf="receipts/2026/receipt.pdf",
    )
    page = names_in(client_for(people[Role.SCHOOL_STAFF]).get(reverse("registry:institution_detail", args=[inst.pk])))
    assert "沪职鉴备〔2026〕001号" in page
    try:
        url = reverse("institutions:receipt_download", args=[application.pk])
    except NoReverseMatch:  # the workflow's download page has not landed yet
        assert "暂不可下载" in page
    else:
        assert url in page


def test_the_menu_offers_the_registry_to_its_readers_and_the_directory_to_everyone(people):
    centre = names_in(client_for(people[Role.CENTRE_REVIEWER]).get(reverse("home")))
    assert f'href="{reverse("registry:institution_list")}"' in centre and "评价机构目录" in centre
    expert = names_in(client_for(people[Role.EXPERT]).get(reverse("home")))
    assert f'href="{reverse("registry:institution_list")}"' not in expert
    assert f'href="{reverse("directory")}"' in expert
    login = names_in(Client().get(reverse("login")))
    assert f'href="{reverse("directory")}"' in login
