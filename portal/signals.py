"""Login-related signal handlers."""

from __future__ import annotations

import logging

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

logger = logging.getLogger("portal.auth")


@receiver(user_logged_in)
def log_login(sender, request, user, **kwargs) -> None:
    logger.info("login user=%s org=%s", user.username, getattr(user.organisation, "pk", None))
