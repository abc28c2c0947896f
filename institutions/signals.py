"""Signal receivers of the institutions app.

The public directory's cached pages (``institutions.directory_cache``) are invalidated whenever
something they show is saved or deleted: an institution (status, reason, dates, codes), one of
its directory occupations, an assessment site or exam room (listed with the institution), a school
(address, contact) or its organisation (the name and district the directory prints), an occupation
of the catalogue (its name and standard). Queryset ``update()`` and
``bulk_create`` send no signals: code that changes these rows that way calls
``directory_changed()`` itself.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from institutions.directory_cache import directory_changed
from institutions.models import AssessmentSite, ExamRoom, Institution, InstitutionOccupation
from portal.models import Occupation, Organisation, OrganisationKind
from schools.models import School


def _directory_row_changed(sender, **kwargs) -> None:
    directory_changed()


def _organisation_changed(sender, instance: Organisation, **kwargs) -> None:
    if instance.kind == OrganisationKind.SCHOOL:
        directory_changed()


def _site_changed(sender, instance: AssessmentSite, **kwargs) -> None:
    if instance.institution_id is not None:  # a site still in a draft application is not listed
        directory_changed()


def connect() -> None:
    """Called once from ``InstitutionsConfig.ready``."""
    for model in (Institution, InstitutionOccupation, ExamRoom, School, Occupation):
        post_save.connect(_directory_row_changed, sender=model, dispatch_uid=f"directory-{model.__name__}-save")
        post_delete.connect(_directory_row_changed, sender=model, dispatch_uid=f"directory-{model.__name__}-delete")
    post_save.connect(_site_changed, sender=AssessmentSite, dispatch_uid="directory-site-save")
    post_delete.connect(_site_changed, sender=AssessmentSite, dispatch_uid="directory-site-delete")
    post_save.connect(_organisation_changed, sender=Organisation, dispatch_uid="directory-organisation-save")
    post_delete.connect(_organisation_changed, sender=Organisation, dispatch_uid="directory-organisation-delete")
