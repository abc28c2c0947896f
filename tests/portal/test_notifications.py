import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from portal.models import Notification, Role
from portal.services import notify
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
