"""The occupation edit page and the confirmation asked before deleting an occupation or evidence."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from institutions.models import AppliedOccupation, EvidenceFile
from portal.models import Role
from schools.models import Level
from tests import factories
from tests.conftest import client_for
from tests.institutions.builders import Cast, welder

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast():
    return Cast(factories.school())


def edit_url(applied) -> str:
    return reverse("institutions:occupation_edit", args=[applied.pk])


def selected(html: str, name: str) -> str:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
    return re.search(r'<option value="(\d+)"[^>]*selected', select).group(1)


def test_the_edit_page_shows_the_row_as_it_is(cast):
    applied = cast.draft().occupations.get()
    html = client_for(cast.staff).get(edit_url(applied)).content.decode()
    assert selected(html, "occupation") == str(welder().pk)
    assert selected(html, "highest_level") == str(Level.LEVEL_3)
    major = applied.majors.get()
    block = re.search(rf'data-testid="major-{major.pk}">(.*?)</div>', html, re.S).group(1)
    assert "checked" in block and 'data-corresponds="yes"' in block
    assert "保存修改" in html


def test_the_school_changes_an_occupation_of_its_draft_through_the_page(cast):
    app = cast.draft()
    applied = app.occupations.get()
    data = {
        "occupation": welder().pk,
        "lowest_level": Level.LEVEL_4,
        "highest_level": Level.LEVEL_4,
        "basis": "national_standard",
        "majors": [m.pk for m in applied.majors.all()],
    }
    response = client_for(cast.staff).post(edit_url(applied), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("institutions:application_detail", args=[app.pk]) + "#occupations"
    applied.refresh_from_db()
    assert (applied.lowest_level, applied.highest_level) == (Level.LEVEL_4, Level.LEVEL_4)


def test_the_edit_page_refuses_what_the_add_page_refuses(cast):
    applied = cast.draft().occupations.get()
    data = {"occupation": welder().pk, "lowest_level": 5, "highest_level": 2, "basis": "national_standard"}
    data["majors"] = [m.pk for m in applied.majors.all()]
    response = client_for(cast.staff).post(edit_url(applied), data)
    assert response.status_code == 200 and "超出" in response.content.decode()
    applied.refresh_from_db()
    assert applied.highest_level == Level.LEVEL_3


def test_an_occupation_cannot_be_edited_once_submitted(cast):
    applied = cast.submitted().occupations.get()
    assert client_for(cast.staff).get(edit_url(applied)).status_code == 409


def test_another_schools_occupation_is_not_found(cast):
    applied = cast.draft().occupations.get()
    other_staff = factories.user(Role.SCHOOL_STAFF, organisation=factories.school().organisation)
    assert client_for(other_staff).get(edit_url(applied)).status_code == 404
    assert client_for(cast.centre).get(edit_url(applied)).status_code == 403


# --- Deletions ask first ----------------------------------------------------------------


def test_asking_to_delete_an_occupation_shows_a_confirmation_and_deletes_nothing(cast):
    app = cast.draft()
    applied = app.occupations.get()
    url = reverse("institutions:occupation_delete", args=[applied.pk])
    response = client_for(cast.staff).get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "确定要删除申报职业（工种）“6-18-02-04 焊工”吗？" in html
    assert re.search(r'<form method="post"[^>]*>', html) and "确认删除" in html
    assert AppliedOccupation.objects.filter(pk=applied.pk).exists()
    response = client_for(cast.staff).post(url)
    assert response.status_code == 302 and not AppliedOccupation.objects.filter(pk=applied.pk).exists()


def test_asking_to_delete_evidence_shows_a_confirmation_and_deletes_nothing(cast):
    app = cast.draft()
    evidence = EvidenceFile.objects.filter(answer__application=app, answer__condition=3).get()
    url = reverse("institutions:evidence_delete", args=[evidence.pk])
    html = client_for(cast.staff).get(url).content.decode()
    assert f"确定要删除条件3的佐证材料“{evidence.original_name}”吗？" in html
    assert reverse("institutions:condition_edit", args=[app.pk, 3]) in html  # cancel goes back
    assert EvidenceFile.objects.filter(pk=evidence.pk).exists()


def test_the_confirmation_is_refused_once_submitted(cast):
    app = cast.submitted()
    applied = app.occupations.get()
    evidence = EvidenceFile.objects.filter(answer__application=app).first()
    client = client_for(cast.staff)
    assert client.get(reverse("institutions:occupation_delete", args=[applied.pk])).status_code == 409
    assert client.get(reverse("institutions:evidence_delete", args=[evidence.pk])).status_code == 409


def test_the_pages_link_to_the_confirmation_instead_of_deleting_at_once(cast):
    app = cast.draft()
    applied = app.occupations.get()
    client = client_for(cast.staff)
    detail = client.get(reverse("institutions:application_detail", args=[app.pk])).content.decode()
    delete = reverse("institutions:occupation_delete", args=[applied.pk])
    assert f'href="{delete}"' in detail and f'action="{delete}"' not in detail
    assert f'href="{edit_url(applied)}"' in detail
    evidence = EvidenceFile.objects.filter(answer__application=app, answer__condition=1).get()
    condition = client.get(reverse("institutions:condition_edit", args=[app.pk, 1])).content.decode()
    delete = reverse("institutions:evidence_delete", args=[evidence.pk])
    assert f'href="{delete}"' in condition and f'action="{delete}"' not in condition
