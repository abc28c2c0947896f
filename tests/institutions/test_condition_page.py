"""The condition page keeps the statement and the files together (issue 7, item 12).

One form carries both: a POST with a typed statement and a file saves both; a refused file
keeps the page with the text as typed; a POST with only one of them leaves the other alone.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from institutions import services
from institutions.models import EvidenceFile
from tests import factories
from tests.conftest import client_for
from tests.institutions.builders import Cast, pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast():
    return Cast(factories.school())


@pytest.fixture
def app(cast):
    return services.application_create(school=cast.school, actor=cast.staff)


def url(app, condition: int = 4) -> str:
    return reverse("institutions:condition_edit", args=[app.pk, condition])


def test_the_statement_and_a_file_sent_together_are_both_kept(cast, app):
    response = client_for(cast.staff).post(url(app), {"statement": "考核站点两处。", "files": [pdf("站点.pdf")]})
    assert response.status_code == 302 and response["Location"] == url(app)
    assert app.answers.get(condition=4).statement == "考核站点两处。"
    assert list(EvidenceFile.objects.filter(answer__application=app).values_list("original_name", flat=True)) == [
        "站点.pdf"
    ]


def test_the_page_after_saving_shows_both_the_statement_and_the_file(cast, app):
    client = client_for(cast.staff)
    response = client.post(url(app), {"statement": "考核站点两处。", "files": [pdf("站点.pdf")]}, follow=True)
    html = response.content.decode()
    assert "考核站点两处。" in html and "站点.pdf" in html
    assert "条件4的情况说明已保存。" in html and "已上传1份佐证材料。" in html


def test_a_refused_file_keeps_the_typed_statement_on_the_page_and_says_the_statement_was_saved(cast, app):
    fake = SimpleUploadedFile("站点.pdf", "不是PDF".encode(), content_type="application/pdf")
    response = client_for(cast.staff).post(url(app), {"statement": "刚刚输入的说明", "files": [fake]})
    assert response.status_code == 200
    html = response.content.decode()
    assert "刚刚输入的说明</textarea>" in html
    assert "文件“站点.pdf”不是 PDF、JPEG 或 PNG" in html
    assert "条件4的情况说明已保存。" in html
    assert not EvidenceFile.objects.filter(answer__application=app).exists()


def test_a_file_alone_leaves_the_saved_statement_as_it_was(cast, app):
    services.condition_answer_save(application=app, actor=cast.staff, condition=4, statement="已保存的说明")
    client_for(cast.staff).post(url(app), {"files": [pdf()]})
    assert app.answers.get(condition=4).statement == "已保存的说明"
    assert EvidenceFile.objects.filter(answer__application=app).count() == 1


def test_saving_the_statement_keeps_files_uploaded_before(cast, app):
    services.evidence_add(application=app, actor=cast.staff, condition=4, upload=pdf("早先.pdf"))
    client_for(cast.staff).post(url(app), {"statement": "新说明"})
    assert EvidenceFile.objects.filter(answer__application=app).count() == 1
    assert app.answers.get(condition=4).statement == "新说明"


def test_save_and_return_goes_to_the_application_s_conditions(cast, app):
    response = client_for(cast.staff).post(url(app), {"statement": "说明", "then": "application"})
    assert response["Location"] == reverse("institutions:application_detail", args=[app.pk]) + "#conditions"


def test_an_unchanged_statement_writes_no_history(cast, app):
    services.condition_answer_save(application=app, actor=cast.staff, condition=4, statement="不变")
    answer = app.answers.get(condition=4)
    before = answer.history.count()
    response = client_for(cast.staff).post(url(app), {"statement": "不变"}, follow=True)
    assert answer.history.count() == before
    assert "没有需要保存的改动。" in response.content.decode()
