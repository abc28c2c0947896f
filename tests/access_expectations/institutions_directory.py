"""The public directory (/directory/) and the authorities' registry (/registry/).

The directory is open to everyone, anonymous included. The registry is read by the centre,
the commission and its department, the municipal bureau, the district bureau (its district)
and school staff (their own institution); only centre reviewers act on entries.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from institutions.models import (
    ApplicationStatus,
    EvaluationBasis,
    FilingApplication,
    Institution,
    InstitutionOccupation,
)
from institutions.services import validity_end
from portal.models import Occupation, Role
from schools.models import Level
from tests.access_expectations import READ_ONLY, Post, Writes

ANON = "anonymous"
CENTRE = Role.CENTRE_REVIEWER.value
STAFF = Role.SCHOOL_STAFF.value
DISTRICT = Role.DISTRICT_HR_OFFICER.value
READERS = {
    CENTRE,
    Role.COMMISSION_OFFICER.value,
    Role.COMMISSION_DEPT_OFFICER.value,
    Role.MUNICIPAL_HR_OFFICER.value,
    DISTRICT,
    STAFF,
}


def _codes(default: int, anon: int = 302, **codes: int) -> dict[str, int]:
    return {**{role: default for role in Role.values}, **codes, ANON: anon}


def _readers(ok: int = 200, **codes: int) -> dict[str, int]:
    return {**{r: (ok if r in READERS else 403) for r in Role.values}, **codes, ANON: 302}


EXPECTATIONS = {
    "directory": (None, _codes(200, anon=200)),
    "directory_detail": ("institution", _codes(200, anon=200)),
    # The workbook for publishing (docs/directory-export.md) and its layout: public.
    "directory_export": (None, _codes(200, anon=200)),
    "directory_export_layout": (None, _codes(200, anon=200)),
    "registry:institution_list": (None, _readers()),
    "registry:export": (None, _readers()),
    "registry:institution_detail": ("institution", _readers()),
    # GET shows the reason form: centre reviewers only; other readers are refused.
    "registry:institution_act": ("institution_suspend", _codes(403, **{CENTRE: 200})),
    "registry:occupation_act": ("occupation_suspend", _codes(403, **{CENTRE: 200})),
}

OUT_OF_SCOPE = {
    "directory_detail": ("other_institution", _codes(200, anon=200)),
    "registry:institution_detail": ("other_institution", _readers(**{STAFF: 404, DISTRICT: 404})),
    "registry:institution_act": ("other_institution_suspend", _codes(403, **{CENTRE: 200, STAFF: 404, DISTRICT: 404})),
    "registry:occupation_act": ("other_occupation_suspend", _codes(403, **{CENTRE: 200, STAFF: 404, DISTRICT: 404})),
}

# Only centre reviewers act, with a reason; a step the entry's state does not allow is a 409.
REASON = {"reason": "整改期间暂停评价活动"}
POST_EXPECTATIONS = {
    "directory": READ_ONLY,
    "directory_detail": READ_ONLY,
    "directory_export": READ_ONLY,
    "directory_export_layout": READ_ONLY,
    "registry:export": READ_ONLY,
    "registry:institution_list": READ_ONLY,
    "registry:institution_detail": READ_ONLY,
    "registry:institution_act": [
        Post("institution_suspend", _codes(403, **{CENTRE: Writes(302)}), data=REASON),
        Post("other_institution_suspend", _codes(403, **{CENTRE: Writes(302), STAFF: 404, DISTRICT: 404}), data=REASON),
        # Restoring an active entry: the state refuses.
        Post("institution_restore", _codes(403, **{CENTRE: 409}), data=REASON),
        Post("institution_unknown_step", _readers(404), note="no such step"),
    ],
    # One occupation on its own: the same rights as the institution's steps.
    "registry:occupation_act": [
        Post("occupation_suspend", _codes(403, **{CENTRE: Writes(302)}), data=REASON),
        Post("other_occupation_suspend", _codes(403, **{CENTRE: Writes(302), STAFF: 404, DISTRICT: 404}), data=REASON),
        # Restoring an active occupation: the state refuses.
        Post("occupation_restore", _codes(403, **{CENTRE: 409}), data=REASON),
        Post("occupation_unknown_step", _readers(404), note="no such step"),
        Post("occupation_of_another_institution", _readers(404), data=REASON, note="row of another institution"),
    ],
}


def institution_for(
    school,
    *,
    created_by,
    occupations=(("6-18-02-04", Level.LEVEL_5, Level.LEVEL_3),),
    status: str = "active",
    status_reason: str = "",
    confirmed_on: dt.date | None = None,
    valid_until: dt.date | None = None,
    basis: str = EvaluationBasis.NATIONAL_STANDARD,
    specification_ref: str = "",
) -> Institution:
    """A filed institution written directly to the tables (the filing workflow is tested elsewhere).

    ``occupations``: (occupation code, lowest level, highest level) per directory row. Dates
    default to a filing confirmed 30 days ago, valid 3 years.
    """
    confirmed_on = confirmed_on or timezone.localdate() - dt.timedelta(days=30)
    valid_until = valid_until or validity_end(confirmed_on)
    application = FilingApplication.objects.create(
        school=school, status=ApplicationStatus.FILED, round=1, created_by=created_by
    )
    institution = Institution.objects.create(
        school=school,
        category_letter="S",
        site_sequence=f"{school.pk:06d}",
        status=status,
        status_reason=status_reason,
        confirmed_on=confirmed_on,
        valid_until=valid_until,
    )
    application.institution = institution
    application.save(update_fields=["institution"])
    for code, lowest, highest in occupations:
        InstitutionOccupation.objects.create(
            institution=institution,
            occupation=Occupation.objects.get(code=code, work_type=""),
            lowest_level=lowest,
            highest_level=highest,
            basis=basis,
            specification_ref=specification_ref,
            confirmed_on=confirmed_on,
            valid_until=valid_until,
            application=application,
        )
    return institution


def build_objects(objects, people) -> dict:
    institution = institution_for(objects["school"], created_by=people[Role.SCHOOL_STAFF])
    other = institution_for(objects["other_school"], created_by=people[Role.CENTRE_REVIEWER])
    row, other_row = institution.occupations.get(), other.occupations.get()
    return {
        "institution": institution,
        "other_institution": other,
        "institution_suspend": {"pk": institution.pk, "action": "suspend"},
        "other_institution_suspend": {"pk": other.pk, "action": "suspend"},
        "institution_restore": {"pk": institution.pk, "action": "restore"},
        "institution_unknown_step": {"pk": institution.pk, "action": "approve"},
        "occupation_suspend": {"pk": institution.pk, "row_pk": row.pk, "action": "suspend"},
        "other_occupation_suspend": {"pk": other.pk, "row_pk": other_row.pk, "action": "suspend"},
        "occupation_restore": {"pk": institution.pk, "row_pk": row.pk, "action": "restore"},
        "occupation_unknown_step": {"pk": institution.pk, "row_pk": row.pk, "action": "approve"},
        "occupation_of_another_institution": {"pk": institution.pk, "row_pk": other_row.pk, "action": "suspend"},
    }
