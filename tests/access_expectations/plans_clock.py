"""The results clock: the public due-date API and the overdue batches page, as every role.

The API is public (no login) and answers every role and anonymous visitors alike; the matrix
calls it without a query string, so each gets the clear 400 for the missing ``end`` (never the
login page). Only GET is served: a POST is 405 for everyone, before the rate limit counts it.
The overdue page is for the roles whose work is about schools (each sees its own scope: the
city all, a district bureau its district, a school its own); experts and quality supervisors 403.
"""

from __future__ import annotations

from portal.access import SCHOOL_VIEWER_ROLES
from portal.models import Role
from tests.access_expectations import ANON, READ_ONLY, Post

VIEWERS = {str(r) for r in SCHOOL_VIEWER_ROLES}


def _all(code: int) -> dict[str, int]:
    return {**{r: code for r in Role.values}, ANON: code}


EXPECTATIONS = {
    "api_due_date": (None, _all(400)),
    "assessments:overdue_list": (None, {**{r: (200 if r in VIEWERS else 403) for r in Role.values}, ANON: 302}),
}

POST_EXPECTATIONS = {
    "api_due_date": [Post(None, _all(405), data={"end": "2026-02-13"}, note="GET only")],
    "assessments:overdue_list": READ_ONLY,
}
