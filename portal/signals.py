"""Login-related signal handlers."""

from __future__ import annotations

import logging

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

logger = logging.getLogger("portal.auth")


@receiver(user_logged_in)
def log_login(sender, request, user, **kwargs) -> None:
    logger.info("login user=%s org=%s", user.username, getattr(user.organisation, "pk", None))


def record_last_login(sender, user, **kwargs) -> None:
    """Django's ``update_last_login`` without a history row: a login is not a change of the user's
    record (``last_login`` is not tracked), so it stays out of the history and the audit log; the
    ``portal.auth`` log line above and django-axes' access log record logins."""
    from django.utils import timezone

    user.last_login = timezone.now()
    user.skip_history_when_saving = True
    try:
        user.save(update_fields=["last_login"])
    finally:
        del user.skip_history_when_saving


def replace_update_last_login() -> None:
    from django.contrib.auth.models import update_last_login

    if user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login"):
        user_logged_in.connect(record_last_login, dispatch_uid="update_last_login")
