"""Oversight statistics (/oversight/statistics/…): certificates and pass rates, subsidy-eligible
holders, teachers' workload and their exports — every URL as every role, GET and POST.

The city-wide authorities, the district bureau (its district) and school staff (their school)
read them; experts and quality supervisors hold no role for them (403). Only the centre's
reviewers and system administrators refresh the materialised figures, by POST (a GET is 405).
"""

from __future__ import annotations

from oversight.selectors.statistics import REFRESH_ROLES, STATISTICS_ROLES
from portal.models import Role
from tests.access_expectations import READ_ONLY, Post, Writes

ANON = "anonymous"
READERS = {str(r) for r in STATISTICS_ROLES}
REFRESHERS = {str(r) for r in REFRESH_ROLES}


def _for(ok: int, roles: set[str], other: int = 403, **codes: int) -> dict[str, int]:
    return {**{r: (ok if r in roles else other) for r in Role.values}, **codes, ANON: 302}


EXPECTATIONS = {
    "oversight:statistics": (None, _for(200, READERS)),
    "oversight:statistics_export": (None, _for(200, READERS)),
    "oversight:statistics_refresh": (None, _for(405, REFRESHERS)),
    "oversight:statistics_subsidy": (None, _for(200, READERS)),
    "oversight:statistics_subsidy_export": (None, _for(200, READERS)),
    "oversight:statistics_workload": (None, _for(200, READERS)),
    "oversight:statistics_workload_export": (None, _for(200, READERS)),
}

POST_EXPECTATIONS = {
    "oversight:statistics": READ_ONLY,
    "oversight:statistics_export": READ_ONLY,
    "oversight:statistics_subsidy": READ_ONLY,
    "oversight:statistics_subsidy_export": READ_ONLY,
    "oversight:statistics_workload": READ_ONLY,
    "oversight:statistics_workload_export": READ_ONLY,
    "oversight:statistics_refresh": [Post(None, _for(Writes(302), REFRESHERS), data={})],
}
