"""What one person's step tells another is shown in the reader's language, not the actor's."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from institutions import services
from institutions.models import ApplicationEvent
from portal.i18n import is_stored, shown
from portal.models import Notification
from tests import factories
from tests.conftest import client_for
from tests.institutions.builders import Cast

pytestmark = pytest.mark.django_db


def test_an_english_speaking_officer_returns_and_the_school_reads_chinese():
    cast = Cast(factories.school())
    app = cast.submitted()
    with translation.override("en"):  # the department officer works in English
        services.application_return(application=app, actor=cast.dept, comment="请补充条件4的场地照片")
    note = Notification.objects.filter(recipient=cast.staff).latest("id")
    assert is_stored(note.title)
    with translation.override("zh-hans"):
        assert shown(note.title) == f"备案申请被退回修改：{cast.school.name}"
    with translation.override("en"):
        assert shown(note.title).startswith("Filing application returned for revision")
        assert cast.school.name in shown(note.title)
    assert note.body == "请补充条件4的场地照片"  # typed text stays as typed


def test_the_notification_list_shows_stored_titles_in_each_readers_language():
    cast = Cast(factories.school())
    app = cast.submitted()
    services.application_return(application=app, actor=cast.dept, comment="请补充材料")
    client = client_for(cast.staff)
    chinese = client.get(reverse("notification_list"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "备案申请被退回修改" in chinese and "\u2063" not in chinese
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get(reverse("notification_list")).content.decode()
    assert "Filing application returned for revision" in english and "备案申请被退回修改" not in english


def test_a_generated_event_comment_is_shown_in_the_readers_language():
    cast = Cast(factories.school())
    app = cast.with_panel()
    event = ApplicationEvent.objects.filter(application=app, action="form_panel").latest("id")
    with translation.override("zh-hans"):
        assert shown(event.comment).startswith("组长：")
    with translation.override("en"):
        assert shown(event.comment).startswith("Panel lead:")
    page = client_for(cast.centre).get(reverse("institutions:application_detail", args=[app.pk])).content.decode()
    assert "组长：" in page and "\u2063" not in page
