"""What every logged-in request costs before the view: the session and the user.

Idle expiry without writing the session on every request.

``SESSION_SAVE_EVERY_REQUEST`` wrote the session row (an UPDATE in a transaction) on every
request of every logged-in user, only to move its expiry forward. Instead, a logged-in user's
session is written again when a quarter of ``SESSION_COOKIE_AGE`` has passed since it was last
written; the write moves the expiry to ``SESSION_COOKIE_AGE`` from then. So with the default two
hours, an active user's session is written at most every 30 minutes, and an idle user is logged
out between 90 minutes and two hours after their last request (never later than before).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest, HttpResponse

REFRESHED_AT = "_portal_refreshed_at"
REFRESH_FRACTION = 4


class SessionRefreshMiddleware:
    """Must come after AuthenticationMiddleware (it asks whether the user is logged in)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if session is None or user is None or not user.is_authenticated or session.is_empty():
            return response
        now = int(time.time())
        refreshed = session.get(REFRESHED_AT)
        if not isinstance(refreshed, int) or now - refreshed >= settings.SESSION_COOKIE_AGE // REFRESH_FRACTION:
            session[REFRESHED_AT] = now  # marks the session modified: SessionMiddleware saves it
        return response


class PortalModelBackend(ModelBackend):
    """Django's model backend, loading the user's organisation with the user (one query, not two):
    every page shows it in the header and scoping reads it."""

    def get_user(self, user_id):
        UserModel = get_user_model()  # noqa: N806
        try:
            user = UserModel._default_manager.select_related("organisation").get(pk=user_id)
        except UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
