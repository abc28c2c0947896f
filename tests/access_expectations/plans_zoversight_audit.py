"""Oversight audit log (/oversight/audit/…): the log, its export and one object's history — every
URL as every role, GET and POST.

The centre's reviewers, system administrators and the municipal HR bureau read the whole log; a
district bureau the entries of organisations in its district; school staff their own
organisation's; everyone else is refused (403). One object's history needs the object itself to
be in the reader's reach: another district's student is a 404 for the school and the bureau.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType

from oversight.selectors.audit import AUDIT_ROLES
from portal.models import Role
from tests.access_expectations import READ_ONLY

ANON = "anonymous"
READERS = {str(r) for r in AUDIT_ROLES}
STAFF = Role.SCHOOL_STAFF.value
DISTRICT = Role.DISTRICT_HR_OFFICER.value


def _for(ok: int, roles: set[str], other: int = 403, **codes: int) -> dict[str, int]:
    return {**{r: (ok if r in roles else other) for r in Role.values}, **codes, ANON: 302}


EXPECTATIONS = {
    "oversight:audit_log": (None, _for(200, READERS)),
    "oversight:audit_log_export": (None, _for(200, READERS)),
    "oversight:audit_object": ("audit_student", _for(200, READERS)),
}

OUT_OF_SCOPE = {
    "oversight:audit_object": ("audit_other_student", _for(200, READERS, **{STAFF: 404, DISTRICT: 404})),
}

POST_EXPECTATIONS = {
    "oversight:audit_log": READ_ONLY,
    "oversight:audit_log_export": READ_ONLY,
    "oversight:audit_object": READ_ONLY,
}


def build_objects(objects, people) -> dict:
    def kwargs(obj) -> dict:
        return {"ct": ContentType.objects.get_for_model(obj.__class__).pk, "object_id": str(obj.pk)}

    return {"audit_student": kwargs(objects["student"]), "audit_other_student": kwargs(objects["other_student"])}
