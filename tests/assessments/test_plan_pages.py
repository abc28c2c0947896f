"""The plan pages as the school and the centre use them."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from assessments.models import EvaluationPlan, PlanStatus
from institutions.models import Institution
from schools.models import Level
from tests import factories
from tests.conftest import client_for
from tests.institutions.builders import Cast

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC), tick=False):
        yield


def test_a_school_plans_a_batch_and_the_centre_accepts_it_through_the_pages():
    cast = Cast(factories.school())
    cast.filed()
    inst = Institution.objects.get(school=cast.school)
    staff, centre = client_for(cast.staff), client_for(cast.centre)
    body = {
        "occupation": inst.occupations.get().pk,
        "level": Level.LEVEL_4,
        "site": inst.sites.get().pk,
        "method": "result",
        "starts_at": "2026-12-10T09:00",
        "ends_at": "2026-12-10T17:00",
    }
    # A level outside the filed range: the form again, with the rule and what was typed.
    page = staff.post(reverse("assessments:plan_create"), {**body, "level": Level.LEVEL_2})
    assert page.status_code == 200 and "备案的等级范围" in page.content.decode()
    assert 'value="2026-12-10T09:00"' in page.content.decode()
    response = staff.post(reverse("assessments:plan_create"), body)
    plan = EvaluationPlan.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("assessments:plan_detail", args=[plan.pk])
    act = reverse("assessments:plan_act", args=[plan.pk, "submit"])
    assert staff.post(act).status_code == 302
    assert client_for(cast.centre).get(reverse("assessments:plan_list")).content.decode().count(f"#{plan.pk}") == 1
    assert (
        centre.post(reverse("assessments:plan_act", args=[plan.pk, "accept"]), {"comment": "同意"}).status_code == 302
    )
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACCEPTED
    again = centre.post(reverse("assessments:plan_act", args=[plan.pk, "accept"]))
    assert again.status_code == 409 and "已备案" in again.content.decode()


def test_a_draft_is_the_schools_own_until_it_is_filed():
    cast = Cast(factories.school())
    cast.filed()
    inst = Institution.objects.get(school=cast.school)
    from assessments import services

    plan = services.plan_create(
        institution=inst,
        actor=cast.staff,
        occupation=inst.occupations.get(),
        level=Level.LEVEL_4,
        site=inst.sites.get(),
        method="result",
        starts_at=dt.datetime(2026, 12, 10, 1, tzinfo=dt.UTC),
        ends_at=dt.datetime(2026, 12, 10, 9, tzinfo=dt.UTC),
    )
    assert client_for(cast.centre).get(reverse("assessments:plan_detail", args=[plan.pk])).status_code == 404
    assert client_for(cast.staff).get(reverse("assessments:plan_detail", args=[plan.pk])).status_code == 200
