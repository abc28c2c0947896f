"""The admin shows workflow records but cannot change them; administrators act through services."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from institutions.models import FilingApplication, FilingReceipt, Institution, InstitutionStatus
from portal.i18n import shown
from portal.models import Role
from tests import factories
from tests.conftest import client_for
from tests.institutions.builders import Cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    user = factories.user(Role.SYSTEM_ADMIN)
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def filed():
    cast = Cast(factories.school())
    app, receipt = cast.filed()
    return cast, app, receipt


def test_every_institutions_model_in_the_admin_is_read_only(rf, superuser):
    request = rf.get("/")
    request.user = superuser
    registered = [(m, a) for m, a in admin.site._registry.items() if m._meta.app_label == "institutions"]
    assert registered
    for model, model_admin in registered:
        assert not model_admin.has_add_permission(request), model
        assert not model_admin.has_change_permission(request), model
        assert not model_admin.has_delete_permission(request), model


def test_a_numbered_receipt_cannot_be_deleted_in_the_admin(superuser, filed):
    _cast, _app, receipt = filed
    client = client_for(superuser)
    url = reverse("admin:institutions_filingreceipt_delete", args=[receipt.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert FilingReceipt.objects.filter(pk=receipt.pk).exists()


def test_a_status_cannot_be_edited_in_the_admin(superuser, filed):
    _cast, app, _receipt = filed
    client = client_for(superuser)
    url = reverse("admin:institutions_filingapplication_change", args=[app.pk])
    assert client.get(url).status_code == 200  # can be read
    client.post(url, {"status": "draft"})
    app.refresh_from_db()
    assert app.status == "filed"
    assert FilingApplication.objects.filter(pk=app.pk, status="filed").exists()


def test_an_administrator_suspends_through_the_service_with_a_reason(superuser, filed):
    cast, app, _receipt = filed
    inst = app.institution
    client = client_for(superuser)
    url = reverse("admin:institutions_institution_changelist")
    ask = client.post(url, {"action": "suspend", "_selected_action": [inst.pk]})
    assert ask.status_code == 200 and "请填写原因" in ask.content.decode()
    inst.refresh_from_db()
    assert inst.status == InstitutionStatus.ACTIVE  # nothing happens without a reason

    done = client.post(url, {"action": "suspend", "_selected_action": [inst.pk], "reason": "数据核查期间暂停"})
    assert done.status_code == 302
    inst = Institution.objects.get(pk=inst.pk)
    assert inst.status == InstitutionStatus.SUSPENDED and inst.status_reason == "数据核查期间暂停"
    event = inst.events.latest("id")
    assert event.actor == superuser and event.action == "suspend"
    assert shown(inst.history.latest().history_change_reason) == "暂停：数据核查期间暂停"
