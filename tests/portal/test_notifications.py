from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from portal.i18n import shown, stored
from portal.models import EmailStatus, Notification, Role
from portal.services import notification_emails_send, notify
from tests import factories
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_notification_email_is_queued_only_when_the_transaction_commits(django_capture_on_commit_callbacks):
    user = factories.user(Role.SCHOOL_STAFF, email="staff@example.invalid")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify(recipients=[user], title="备案申请已退回", body="请补正材料", link="/")
        assert mail.outbox == []
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    assert "备案申请已退回" in mail.outbox[0].subject
    assert Notification.objects.get(recipient=user).emailed_at is not None


def test_a_rolled_back_transition_leaves_no_notification_and_sends_no_email(django_capture_on_commit_callbacks):
    user = factories.user(Role.SCHOOL_STAFF, email="staff@example.invalid")
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                notify(recipients=[user], title="不会送达")
                raise RuntimeError("transition failed")
        except RuntimeError:
            pass
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_users_without_an_email_address_get_only_the_in_portal_notification(django_capture_on_commit_callbacks):
    user = factories.user(Role.SCHOOL_STAFF)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify(recipients=[user, user], title="只在平台内")
    assert callbacks == []
    assert Notification.objects.filter(recipient=user).count() == 1


def test_resending_the_email_task_does_not_mail_twice(django_capture_on_commit_callbacks):
    from portal.tasks import send_notification_emails

    user = factories.user(Role.SCHOOL_STAFF, email="staff@example.invalid")
    with django_capture_on_commit_callbacks(execute=True):
        rows = notify(recipients=[user], title="一次")
    assert send_notification_emails([rows[0].pk]) == 0
    assert len(mail.outbox) == 1


def test_the_unread_count_shows_in_the_header_and_opening_marks_read():
    user = factories.user(Role.SCHOOL_STAFF)
    notify(recipients=[user], title="第一条", link="/jobs/")
    notify(recipients=[user], title="第二条")
    client = client_for(user)
    page = client.get(reverse("home")).content.decode()
    assert 'text-bg-warning" aria-label="2 条未读">2</span>' in page
    first = Notification.objects.get(title="第一条")
    response = client.post(reverse("notification_open", args=[first.pk]))
    assert response.status_code == 302 and response["Location"] == "/jobs/"
    first.refresh_from_db()
    assert first.read_at is not None
    client.post(reverse("notification_read_all"))
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()


def test_a_user_cannot_open_someone_elses_notification():
    owner = factories.user(Role.SCHOOL_STAFF)
    other = factories.user(Role.SCHOOL_STAFF)
    notify(recipients=[owner], title="私人")
    n = Notification.objects.get()
    assert client_for(other).post(reverse("notification_open", args=[n.pk])).status_code == 404
    n.refresh_from_db()
    assert n.read_at is None


# --- The e-mail outbox -----------------------------------------------------------------


@pytest.fixture
def broker_down(settings):
    """Celery really publishing, to a port nothing listens on."""
    from portal import queue
    from portal.celery import app

    saved = app.conf.broker_url, app.conf.task_always_eager
    app.conf.task_always_eager = False
    app.conf.broker_url = "redis://127.0.0.1:9/0"
    queue.reset_broker_connections(app)
    yield
    app.conf.broker_url, app.conf.task_always_eager = saved
    queue.reset_broker_connections(app)


def test_an_email_queued_while_the_broker_is_down_is_sent_once_by_the_beat_job(broker_down):
    from portal.tasks import send_pending_emails

    user = factories.user(Role.SCHOOL_STAFF, email="staff@example.invalid")
    with transaction.atomic():
        notify(recipients=[user], title="停电期间的通知")
    n = Notification.objects.get(recipient=user)
    assert (n.email_status, mail.outbox) == (EmailStatus.PENDING, [])
    assert send_pending_emails() == 1
    assert send_pending_emails() == 0
    assert [m.subject for m in mail.outbox] == ["[上海市职业学校职业技能等级认定工作平台] 停电期间的通知"]
    n.refresh_from_db()
    assert n.email_status == EmailStatus.SENT and n.emailed_at is not None and n.email_attempts == 1


def test_a_failing_mail_server_is_retried_with_backoff_then_reported_to_administrators(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    from portal import services

    settings.PORTAL_EMAIL_MAX_ATTEMPTS = 3
    user = factories.user(Role.SCHOOL_STAFF, email="staff@example.invalid")
    admin = factories.user(Role.SYSTEM_ADMIN)
    calls = []

    def refused(*args, **kwargs):
        calls.append(args)
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(services, "send_mail", refused)
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[user], title="会失败的邮件")
    n = Notification.objects.get(recipient=user)
    assert (n.email_status, n.email_attempts) == (EmailStatus.PENDING, 1)
    assert "smtp down" in n.email_error
    now = timezone.now()
    assert notification_emails_send(now=now) == 0 and len(calls) == 1  # not due yet: backoff
    assert notification_emails_send(now=now + timedelta(minutes=1, seconds=1)) == 0 and len(calls) == 2
    assert notification_emails_send(now=now + timedelta(minutes=2)) == 0 and len(calls) == 2  # 2 min after 2nd
    assert notification_emails_send(now=now + timedelta(minutes=4)) == 0 and len(calls) == 3
    n.refresh_from_db()
    assert (n.email_status, n.email_attempts) == (EmailStatus.FAILED, 3)
    assert notification_emails_send(now=now + timedelta(days=1)) == 0 and len(calls) == 3  # given up
    # Administrators see it: a home panel and the admin list filter.
    home = client_for(admin).get(reverse("home")).content.decode()
    assert "邮件发送失败（1 封）" in home and "email_status__exact=failed" in home
    assert "邮件发送失败" not in client_for(user).get(reverse("home")).content.decode()
    admin.is_staff = admin.is_superuser = True
    admin.save()
    listing = client_for(admin).get(reverse("admin:portal_notification_changelist") + "?email_status__exact=failed")
    assert listing.status_code == 200 and "会失败的邮件" in listing.content.decode()


def test_two_senders_at_once_send_one_email(monkeypatch):
    """The second sender finds the row already claimed (conditional update) and sends nothing."""
    from portal import services

    user = factories.user(Role.SCHOOL_STAFF, email="staff@example.invalid")
    with transaction.atomic():
        row = notify(recipients=[user], title="只发一次")[0]
    real_send = services.send_mail

    def send_and_race(*args, **kwargs):
        assert services._email_one(row.pk, now=timezone.now()) == 0  # a concurrent sender mid-send
        return real_send(*args, **kwargs)

    monkeypatch.setattr(services, "send_mail", send_and_race)
    assert notification_emails_send() == 1
    assert len(mail.outbox) == 1


def test_a_sender_that_died_mid_send_is_not_resent_but_reported():
    user = factories.user(Role.SCHOOL_STAFF, email="staff@example.invalid")
    with transaction.atomic():
        row = notify(recipients=[user], title="发送中断")[0]
    Notification.objects.filter(pk=row.pk).update(
        email_status=EmailStatus.SENDING, email_attempts=1, email_next_at=timezone.now() - timedelta(hours=1)
    )
    assert notification_emails_send() == 0
    row.refresh_from_db()
    assert row.email_status == EmailStatus.FAILED and "无法确认" in shown(row.email_error)
    assert mail.outbox == []


def test_the_email_is_written_in_the_recipients_language(django_capture_on_commit_callbacks):
    zh = factories.user(Role.SCHOOL_STAFF, email="zh@example.invalid")
    en = factories.user(Role.SCHOOL_STAFF, email="en@example.invalid")
    en.language = "en"
    en.save(update_fields=["language"])
    # The actor reads English; each recipient still gets their own language.
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[zh, en], title=stored(gettext_lazy("未读通知")), body=stored(gettext_lazy("后台任务")))
    by_address = {m.to[0]: m for m in mail.outbox}
    assert by_address["zh@example.invalid"].subject.endswith("未读通知")
    assert by_address["zh@example.invalid"].body == "后台任务"
    assert by_address["en@example.invalid"].subject.endswith("Unread notifications")
    assert by_address["en@example.invalid"].body == "Background jobs"


def test_stored_titles_are_shown_in_the_readers_language_in_the_list_and_the_home_panel():
    user = factories.user(Role.SCHOOL_STAFF)
    notify(recipients=[user], title=stored(gettext_lazy("未读通知")), body=stored(gettext_lazy("后台任务")))
    client = client_for(user)
    zh_list = client.get(reverse("notification_list")).content.decode()
    assert "后台任务" in zh_list and "\u2063" not in zh_list
    client.cookies["django_language"] = "en"
    en_list = client.get(reverse("notification_list")).content.decode()
    assert "Background jobs" in en_list and "\u2063" not in en_list
    home = client.get(reverse("home")).content.decode()
    assert "Unread notifications</a>" in home and "\u2063" not in home


def test_switching_language_when_logged_in_keeps_it_for_emails():
    user = factories.user(Role.SCHOOL_STAFF)
    client = client_for(user)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302 and response.cookies["django_language"].value == "en"
    user.refresh_from_db()
    assert user.language == "en"
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    user.refresh_from_db()
    assert user.language == "en"
    from django.test import Client

    assert Client().post(reverse("set_language"), {"language": "en", "next": "/"}).status_code == 302
