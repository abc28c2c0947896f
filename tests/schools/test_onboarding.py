"""The centre's administrator opens a school with its first user in one page (issue 7, item 15).

Organisation, school and user are created together or not at all; each refused field has its own
message; the new user has no password until they set one through a one-use link shown once.
"""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from portal.models import District, Organisation, OrganisationKind, Role, User
from portal.validators import make_uscc
from schools.models import School, SchoolType
from schools.services import school_onboard, set_password_link
from tests import factories
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Fresh-pass-2027!"


@pytest.fixture
def admin_user():
    return factories.user(Role.SYSTEM_ADMIN)


def answers(**overrides) -> dict:
    data = {
        "name": "上海市新开职业学校",
        "short_name": "新开职校",
        "school_type": SchoolType.SECONDARY,
        "district": District.objects.get(code="310113"),
        "uscc": make_uscc("12310000", "59000001"),
        "full_name": "张老师",
        "username": "school-xinkai",
        "email": "xinkai@example.invalid",
    }
    data.update(overrides)
    return data


def form_data(**overrides) -> dict:
    data = answers(**overrides)
    data["district"] = data["district"].pk if data["district"] else ""
    return data


def test_one_call_opens_the_organisation_the_school_and_its_first_user(admin_user):
    school, user = school_onboard(actor=admin_user, **answers())
    assert school.organisation.kind == OrganisationKind.SCHOOL and school.organisation.district.code == "310113"
    assert school.school_type == SchoolType.SECONDARY and school.name == "上海市新开职业学校"
    assert user.organisation == school.organisation and user.role_set == {Role.SCHOOL_STAFF}
    assert user.full_name == "张老师" and user.email == "xinkai@example.invalid"
    assert not user.has_usable_password()
    for obj in (school.organisation, school, user):
        assert obj.history.get().history_user == admin_user


def test_only_the_system_administrator_may_open_a_school(people):
    for role in (Role.CENTRE_REVIEWER, Role.COMMISSION_OFFICER, Role.SCHOOL_STAFF):
        with pytest.raises(PermissionDenied):
            school_onboard(actor=people[role], **answers())
    assert not Organisation.objects.filter(name="上海市新开职业学校").exists()


def test_each_refused_field_has_its_own_message_and_nothing_is_written(admin_user):
    existing = factories.school(name="上海市已有职业学校")
    factories.user(Role.SCHOOL_STAFF, organisation=existing.organisation, username="taken")
    before = (Organisation.objects.count(), School.objects.count(), User.objects.count())
    with pytest.raises(ValidationError) as refused:
        school_onboard(
            actor=admin_user,
            **answers(
                name="上海市已有职业学校",
                school_type="",
                district=None,
                uscc=existing.uscc[:-1] + ("0" if existing.uscc[-1] != "0" else "1"),
                full_name="",
                username="Taken",
                email="not-an-address",
            ),
        )
    errors = refused.value.message_dict
    assert set(errors) == {"name", "school_type", "district", "uscc", "full_name", "username", "email"}
    assert errors["name"] == ["已有名为“上海市已有职业学校”的机构，请核对是否已开通。"]
    assert errors["username"] == ["用户名“Taken”已被使用，请换一个。"]
    assert errors["email"] == ["“not-an-address”不是有效的电子邮箱地址。"]
    assert (Organisation.objects.count(), School.objects.count(), User.objects.count()) == before


def test_a_credit_code_already_used_by_a_school_names_that_school(admin_user):
    existing = factories.school(name="上海市已有职业学校")
    with pytest.raises(ValidationError) as refused:
        school_onboard(actor=admin_user, **answers(uscc=existing.uscc.lower()))
    assert refused.value.message_dict["uscc"] == ["该统一社会信用代码已属于“上海市已有职业学校”。"]


def test_a_username_with_spaces_is_refused_with_what_is_allowed(admin_user):
    with pytest.raises(ValidationError) as refused:
        school_onboard(actor=admin_user, **answers(username="xin kai"))
    assert refused.value.message_dict["username"] == ["用户名只能包含字母、数字和 @ . + - _ 符号，不能有空格。"]


def test_the_page_opens_the_school_and_shows_the_set_password_link_once(admin_user):
    client = client_for(admin_user)
    response = client.post(reverse("schools:school_new"), form_data())
    assert response.status_code == 200
    html = response.content.decode()
    assert "已开通“上海市新开职业学校”及其用户 school-xinkai。" in html
    link = re.search(r'id="set-password-link" data-testid="set-password-link" value="([^"]+)"', html).group(1)
    assert "/accounts/set-password/" in link
    # The new user sets a password through the link, then logs in with it; the link is then void.
    anonymous = Client()
    path = link[link.index("/accounts/") :]
    form_page = anonymous.get(path, follow=True)
    assert "请为您的账号设置登录密码" in form_page.content.decode()
    done = anonymous.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302 and done["Location"] == reverse("password_set_done")
    user = User.objects.get(username="school-xinkai")
    assert user.check_password(NEW_PASSWORD)
    login = Client().post(reverse("login"), {"username": "school-xinkai", "password": NEW_PASSWORD})
    assert login.status_code == 302 and login["Location"] == "/"
    again = Client().get(path).content.decode()
    assert "此链接无效或已过期" in again


def test_the_page_shows_each_refusal_beside_its_field(admin_user):
    factories.school(name="上海市已有职业学校")
    response = client_for(admin_user).post(
        reverse("schools:school_new"), form_data(name="上海市已有职业学校", uscc="91310000MA1FL0000X")
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-field="name">已有名为“上海市已有职业学校”的机构' in html
    assert 'data-field="uscc">' in html
    assert not User.objects.filter(username="school-xinkai").exists()


def test_a_link_is_void_once_a_password_is_set(admin_user):
    _school, user = school_onboard(actor=admin_user, **answers())
    path = set_password_link(user)
    user.set_password(NEW_PASSWORD)
    user.save()
    assert "此链接无效或已过期" in Client().get(path, follow=True).content.decode()


def test_the_school_list_offers_the_page_to_the_administrator_only(admin_user, people):
    assert reverse("schools:school_new") in client_for(admin_user).get(reverse("schools:school_list")).content.decode()
    page = client_for(people[Role.CENTRE_REVIEWER]).get(reverse("schools:school_list")).content.decode()
    assert reverse("schools:school_new") not in page
