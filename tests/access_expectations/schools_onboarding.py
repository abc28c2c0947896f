"""Opening a school with its first user (/schools/new/, the centre's system administrator only) and the
first user's set-password page (public: it is reached through a one-use link)."""

from __future__ import annotations

from portal.models import District, Role
from portal.validators import make_uscc
from tests.access_expectations import READ_ONLY, Post, Writes

ANON = "anonymous"
SYSADMIN = Role.SYSTEM_ADMIN.value


def _for(ok: int, roles: set[str], other: int = 403, anon: int = 302) -> dict[str, int]:
    return {**{r: (ok if r in roles else other) for r in Role.values}, ANON: anon}


def _everyone(code: int) -> dict[str, int]:
    return _for(code, set(Role.values), anon=code)


EXPECTATIONS = {
    "schools:school_new": (None, _for(200, {SYSADMIN})),
    # A link that is not (or no longer) valid: the page says so, for anyone who opens it.
    "password_set": ("set_password_link", _everyone(200)),
    "password_set_done": (None, _everyone(200)),
}


def _onboarding(objects: dict) -> dict:
    return {
        "name": "上海市矩阵测试职业学校",
        "school_type": "secondary",
        "district": District.objects.get(code="310113").pk,
        "uscc": make_uscc("12310000", "59000001"),
        "full_name": "张老师",
        "username": "matrix-new-school",
        "email": "matrix-new-school@example.invalid",
    }


NEW_PASSWORD = {"new_password1": "Fresh-pass-2027!", "new_password2": "Fresh-pass-2027!"}

POST_EXPECTATIONS = {
    "schools:school_new": [
        Post(None, {**_for(403, set()), SYSADMIN: Writes(200)}, data=_onboarding),
        Post(None, _for(200, {SYSADMIN}), note="an empty form: every field refused, nothing written"),
    ],
    "password_set": [Post("set_password_link", _everyone(200), data=NEW_PASSWORD, note="an invalid link")],
    "password_set_done": READ_ONLY,
}


def build_objects(objects: dict, people: dict) -> dict:
    return {"set_password_link": {"uidb64": "MQ", "token": "not-a-valid-token"}}
