"""seed_demo's complaints: one waiting for the centre, one answered; added once."""

from __future__ import annotations

import pytest

from oversight.demo_parts import complaints as demo
from oversight.models import Complaint, ComplaintStatus
from portal.demo import DemoContext
from portal.models import Role
from tests import factories
from tests.access_expectations.institutions_directory import institution_for

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_a_waiting_and_an_answered_complaint_once(school):
    institution_for(school, created_by=factories.user(Role.SCHOOL_STAFF, organisation=school.organisation))
    ctx = DemoContext(password="demo")
    ctx.users["centre-reviewer"] = factories.user(Role.CENTRE_REVIEWER)
    demo.build(ctx)
    demo.build(ctx)
    statuses = sorted(Complaint.objects.values_list("status", flat=True))
    assert statuses == sorted([ComplaintStatus.RECEIVED, ComplaintStatus.CLOSED])
