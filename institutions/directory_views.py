"""The public directory of assessment institutions (notice annex §3.5): no login.

Published: institution name, occupations (工种) with level range, the national standard or
filed specification, and certificate information. Suspended, removed and expired entries stay
listed with their status and public reason, so a reader can tell why an institution's
certificates are no longer being issued.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import wraps

from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _

from institutions import directory_export as directory_export_module
from institutions import selectors
from institutions.directory_cache import cached_for_anonymous, entry_fragments
from institutions.directory_forms import DirectorySearchForm
from institutions.models import Institution, InstitutionStatus
from portal.access import public
from portal.i18n import shown

PAGE_SIZE = 20
PUBLIC_MAX_AGE = 300  # seconds a shared cache may keep a public page

STATUS_STYLES = {
    InstitutionStatus.ACTIVE: "success",
    InstitutionStatus.SUSPENDED: "warning",
    InstitutionStatus.REMOVED: "danger",
    InstitutionStatus.EXPIRED: "secondary",
}


def publicly_cacheable(view: Callable) -> Callable:
    """``Cache-Control: public, max-age=300`` for anonymous visitors.

    A logged-in user's copy carries their name, menu and CSRF token in the header bar, so it
    is marked private instead: no shared cache may keep it.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if request.user.is_authenticated:
            patch_cache_control(response, private=True, max_age=0)
        else:
            patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
        return response

    return wrapped


def shown_status(status: str, valid_until: dt.date, today: dt.date) -> InstitutionStatus:
    """The status a reader should see: an active entry past its validity is already 已过期,
    even before the nightly expiry job has written it."""
    if status == InstitutionStatus.ACTIVE and valid_until < today:
        return InstitutionStatus.EXPIRED
    return InstitutionStatus(status)


def mark_statuses(institutions: Iterable[Institution], today: dt.date | None = None) -> list[Institution]:
    """Sets ``shown_status``, ``status_style`` and ``public_reason`` on each institution and on its
    prefetched occupations (an occupation of a suspended institution shows the institution's status)."""
    today = today or timezone.localdate()
    out = []
    for inst in institutions:
        inst.shown_status = shown_status(inst.status, inst.valid_until, today)
        inst.status_style = STATUS_STYLES[inst.shown_status]
        if inst.shown_status == InstitutionStatus.ACTIVE:
            inst.public_reason = ""
        elif inst.status == InstitutionStatus.ACTIVE:  # past its date, job not yet run
            inst.public_reason = _("有效期届满")
        else:
            inst.public_reason = shown(inst.status_reason)  # the expiry job stores it for every reader
        for row in inst.occupations.all():
            own = shown_status(row.status, row.valid_until, today)
            row.shown_status = inst.shown_status if inst.shown_status != InstitutionStatus.ACTIVE else own
            row.status_style = STATUS_STYLES[row.shown_status]
            # The row's own public reason, when the row (not its institution) is what is not active.
            if inst.shown_status != InstitutionStatus.ACTIVE or own == InstitutionStatus.ACTIVE:
                row.public_reason = ""
            elif row.status == InstitutionStatus.ACTIVE:  # past its date, job not yet run
                row.public_reason = _("有效期届满")
            else:
                row.public_reason = shown(row.status_reason)
        out.append(inst)
    return out


def rendered_entries(template_name: str, page, filters: dict | None = None) -> list:
    """The HTML of each institution of ``page`` (a page of ``selectors.directory()`` without its
    prefetch), each rendered with ``template_name`` or served from the entry cache: only the
    entries not cached get their occupations and sites loaded and rendered.

    With an occupation or level search, the rows it matched are marked and listed first: such an
    entry is cached per search (``variant``), the plain entry stays shared by every page.
    """
    occupation = (filters or {}).get("occupation") or ""
    level = (filters or {}).get("level")
    highlighting = bool(occupation or level)

    def prepare(institutions: list[Institution]) -> None:
        prefetch_related_objects(
            institutions,
            selectors.directory_occupations(occupation=occupation, level=level),
            selectors.directory_sites(),
        )
        mark_statuses(institutions)
        for inst in institutions:
            inst.highlighting = highlighting

    variant = f"{occupation}|{level or ''}" if highlighting else ""
    return entry_fragments(template_name, list(page.object_list), prepare=prepare, variant=variant)


@public
@publicly_cacheable
@cached_for_anonymous
def directory_list(request: HttpRequest) -> HttpResponse:
    form = DirectorySearchForm(request.GET or None)
    filters = form.filters()
    page = Paginator(selectors.directory(**filters).prefetch_related(None), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "institutions/directory_list.html",
        {
            "form": form,
            "page": page,
            "cards": rendered_entries("institutions/_directory_card.html", page, filters),
            "searched": any(filters.values()),
            "highlighting": bool(filters.get("occupation") or filters.get("level")),
            "export_url": export_url(reverse("directory_export"), request),
        },
    )


def export_url(path: str, request: HttpRequest) -> str:
    """The export of what the page lists: the page's own search terms, without its page number."""
    params = request.GET.copy()
    params.pop("page", None)
    return f"{path}?{params.urlencode()}" if params else path


@public
@publicly_cacheable
def directory_export(request: HttpRequest) -> HttpResponse:
    """The directory as an Excel workbook (layout: ``docs/directory-export.md``), search terms applied."""
    filters = DirectorySearchForm(request.GET or None).filters()
    institutions = selectors.directory(**filters).prefetch_related(None)
    return directory_export_module.workbook_response(
        selectors.directory_export_rows(
            institutions, occupation=filters.get("occupation") or "", level=filters.get("level")
        ),
        filters=filters,
    )


@public
@publicly_cacheable
@cached_for_anonymous
def directory_export_layout(request: HttpRequest) -> HttpResponse:
    """The export's columns, as documented in ``docs/directory-export.md``."""
    return render(request, "institutions/directory_export_layout.html", {"columns": directory_export_module.COLUMNS})


@public
@publicly_cacheable
@cached_for_anonymous
def directory_detail(request: HttpRequest, pk: int) -> HttpResponse:
    institution = get_object_or_404(selectors.directory(), pk=pk)
    mark_statuses([institution])
    return render(request, "institutions/directory_detail.html", {"institution": institution})


def register_directory_menu() -> None:
    """Menu entries of the directory and the registry; called once from ``InstitutionsConfig.ready``."""
    from institutions.registry_views import REGISTRY_ROLES
    from portal.navigation import MENU, register_menu

    if any(entry.url_name == "registry:institution_list" for entry in MENU):
        return
    register_menu(_("评价机构目录"), "registry:institution_list", REGISTRY_ROLES)
