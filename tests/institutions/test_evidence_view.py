"""Evidence read in the page: the scoped inline view, its headers, and the pages that embed it."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from institutions import services
from institutions.models import EvidenceFile
from portal.models import Role
from tests import factories
from tests.conftest import client_for
from tests.institutions.builders import MINIMAL_PDF, Cast

pytestmark = pytest.mark.django_db

# The smallest PNG filetype recognises: the signature and an IHDR chunk.
MINIMAL_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
    b"\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def cast():
    return Cast(factories.school())


def view_url(evidence) -> str:
    return reverse("institutions:evidence_view", args=[evidence.pk])


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


def first_evidence(app) -> EvidenceFile:
    return EvidenceFile.objects.filter(answer__application=app, answer__condition=1).first()


def with_png(cast, app) -> EvidenceFile:
    """A photo added to condition 2 before submitting (the draft is still the school's)."""
    upload = SimpleUploadedFile("考场照片.png", MINIMAL_PNG, content_type="image/png")
    return services.evidence_add(application=app, actor=cast.staff, condition=2, upload=upload)


def test_a_pdf_is_served_inline_under_its_checked_type_with_its_name(cast):
    evidence = first_evidence(cast.submitted())
    response = client_for(cast.dept).get(view_url(evidence))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline; filename=")
    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == MINIMAL_PDF


def test_an_image_is_served_inline_as_png(cast):
    app = cast.draft()
    photo = with_png(cast, app)
    response = client_for(cast.staff).get(view_url(photo))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;") and ".png" in response["Content-Disposition"]


def test_only_the_inline_view_may_be_framed_and_only_by_the_portal_itself(cast):
    evidence = first_evidence(cast.submitted())
    client = client_for(cast.centre)
    response = client.get(view_url(evidence))
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    policy = directives(response)
    assert policy["frame-ancestors"] == "frame-ancestors 'self'"
    assert policy["object-src"] == "object-src 'self'"
    assert policy["script-src"] == "script-src 'self'" and policy["default-src"] == "default-src 'self'"

    # Everything else stays as strict as it was; the pages may frame only our own URLs.
    page = client.get(reverse("institutions:application_detail", args=[evidence.answer.application_id]))
    assert page["X-Frame-Options"] == "DENY"
    policy = directives(page)
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["object-src"] == "object-src 'none'"
    assert policy["frame-src"] == "frame-src 'self'"
    download = client.get(reverse("institutions:evidence_download", args=[evidence.pk]))
    assert download["X-Frame-Options"] == "DENY" and download["Content-Disposition"].startswith("attachment;")


def test_the_inline_view_is_scoped_exactly_as_the_download(cast):
    app = cast.with_panel()
    evidence = first_evidence(app)
    other_staff = factories.user(Role.SCHOOL_STAFF, organisation=factories.school().organisation)
    stranger_expert = factories.user(Role.EXPERT)
    supervisor = factories.user(Role.QUALITY_SUPERVISOR)
    for user, status in [
        (cast.staff, 200),
        (cast.dept, 200),
        (cast.centre, 200),
        (cast.experts[1], 200),  # on the panel
        (other_staff, 404),
        (stranger_expert, 404),  # not on this panel
        (supervisor, 403),
    ]:
        client = client_for(user)
        assert client.get(view_url(evidence)).status_code == status, user
        download = reverse("institutions:evidence_download", args=[evidence.pk])
        assert client.get(download).status_code == status, user


def test_the_findings_page_shows_each_statement_with_its_evidence_in_the_page(cast):
    app = cast.draft()
    photo = with_png(cast, app)
    services.application_submit(application=app, actor=cast.staff, declared=True)
    services.application_accept(application=app, actor=cast.dept)
    services.panel_form(application=app, actor=cast.centre, experts=cast.experts, lead=cast.lead)
    services.panel_agree(application=app, actor=cast.dept)
    html = client_for(cast.experts[1]).get(reverse("institutions:findings", args=[app.pk])).content.decode()
    pdf = first_evidence(app)
    assert f'<iframe class="w-100 border rounded bg-body-secondary" style="height: 36rem" src="{view_url(pdf)}"' in html
    assert re.search(rf'<img class="img-fluid border rounded" src="{view_url(photo)}" alt="[^"]*考场照片.png"', html)
    assert "条件1的情况说明" in html  # the statement beside it
    # Seven files (condition 2 has the photo too): the photo open, each PDF closed until clicked, so
    # the page does not start six PDF viewers at once.
    closed = re.findall(r'<details class="[^"]*" data-testid="evidence-\d+"', html)
    opened = re.findall(r'<details class="[^"]*" open data-testid="evidence-(\d+)"', html)
    assert opened == [str(photo.pk)] and len(closed) == 6


def test_the_detail_page_shows_evidence_inline_to_the_reviewers_and_as_links_to_others(cast):
    app = cast.with_panel()
    url = reverse("institutions:application_detail", args=[app.pk])
    evidence = first_evidence(app)
    for user in (cast.dept, cast.centre, cast.experts[1]):
        html = client_for(user).get(url).content.decode()
        assert f'src="{view_url(evidence)}"' in html, user
    for user in (cast.staff, cast.hr):
        html = client_for(user).get(url).content.decode()
        assert view_url(evidence) not in html, user
        assert reverse("institutions:evidence_download", args=[evidence.pk]) in html
