"""The public directory's pages, cached for anonymous visitors in the shared (Redis) cache.

A page is cached per full URL (path and query), language and day (an entry past its date is
shown 已过期 from the next day on). Every cached page carries the directory *version* it was
rendered at; ``directory_changed()`` bumps the version when an entry changes (signals in
``institutions.signals`` call it on every save or delete of an institution, a directory
occupation, a school or its name, an occupation of the catalogue), so the next visitor gets a
fresh page. A page is looked up with one round trip (``get_many`` of the version and the page).

Below the pages, each *entry* (an institution's directory card, its registry row) is cached as an
HTML fragment shared by every visitor, logged in or not, under the same version: a page then
renders only its header, menu and form, and the entries that changed since. A fragment is
rendered from the institution alone (no request, so no user, menu or CSRF token can reach it),
per language and day.

What is never cached: logged-in visitors' pages (their name, menu and CSRF token), requests
that carry a session or a pending message, htmx requests, unknown query parameters, and any
response that used the CSRF token, set a cookie or is not a 200. When the cache is unreachable
the page is simply rendered.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

logger = logging.getLogger(__name__)

VERSION_KEY = "directory:version"
PAGE_TTL = 300  # seconds: also bounds how stale a page can be if an invalidation is ever lost
KNOWN_PARAMETERS = frozenset({"q", "occupation", "district", "level", "page"})
MAX_PATH = 400
FRAGMENT_TTL = PAGE_TTL


def directory_changed() -> None:
    """Invalidate every cached directory page: now, and again when the current transaction commits.

    The second bump covers a visitor who rendered the old rows while the change was still
    uncommitted: the page they cache carries the version of before the commit. Services that
    change what the directory shows without ``save()`` (a queryset ``update()``, ``bulk_create``)
    call this themselves; saves and deletes are covered by the signals.
    """
    _bump_version()
    transaction.on_commit(_bump_version)


def forget_pages() -> None:
    """Make every cached page stale (tests call it: their rows are rolled back, not deleted)."""
    try:
        cache.delete(VERSION_KEY)
    except Exception:  # noqa: BLE001
        logger.warning("directory cache unreachable; nothing to forget")


def _bump_version() -> None:
    try:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:  # no version yet (first change, or the cache was flushed)
            _start_version()
    except Exception:  # noqa: BLE001 - a dead cache must not fail the change; pages expire within PAGE_TTL
        logger.warning("directory cache: could not bump the version; pages expire within %s s", PAGE_TTL)


def _start_version() -> int:
    """A version that no page cached before a flush can carry (the clock in nanoseconds)."""
    cache.add(VERSION_KEY, time.time_ns(), timeout=None)
    return cache.get(VERSION_KEY)


def page_key(request: HttpRequest) -> str:
    raw = f"{translation.get_language()}|{timezone.localdate():%Y%m%d}|{request.get_full_path()}"
    return "directory:page:" + hashlib.sha256(raw.encode()).hexdigest()


def cacheable_request(request: HttpRequest) -> bool:
    if request.method not in {"GET", "HEAD"} or request.user.is_authenticated:
        return False
    if settings.SESSION_COOKIE_NAME in request.COOKIES or "messages" in request.COOKIES:
        return False
    if request.headers.get("HX-Request"):
        return False
    if len(request.get_full_path()) > MAX_PATH:
        return False
    return all(key in KNOWN_PARAMETERS and len(values) == 1 for key, values in request.GET.lists())


def cacheable_response(request: HttpRequest, response: HttpResponse) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        # The page used the visitor's CSRF token: it must reach that visitor only.
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
    )


def cached_for_anonymous(view: Callable) -> Callable:
    """Serve anonymous visitors the cached page when it is current; cache what they are served."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not cacheable_request(request):
            return view(request, *args, **kwargs)
        key = page_key(request)
        try:
            found = cache.get_many([VERSION_KEY, key])
            version = found.get(VERSION_KEY)
            if version is None:
                version = _start_version()
        except Exception:  # noqa: BLE001 - the cache is an optimisation: render without it
            logger.warning("directory cache unreachable; rendering the page")
            return view(request, *args, **kwargs)
        entry = found.get(key)
        if entry is not None and entry[0] == version:
            response = HttpResponse(entry[1], content_type=entry[2])
            response["X-Directory-Cache"] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if cacheable_response(request, response):
            try:
                cache.set(key, (version, response.content, response["Content-Type"]), PAGE_TTL)
            except Exception:  # noqa: BLE001
                logger.warning("directory cache unreachable; page not stored")
            response["X-Directory-Cache"] = "miss"
        return response

    return wrapped


def fragment_key(template_name: str, pk: int, variant: str = "") -> str:
    raw = f"{template_name}|{translation.get_language()}|{timezone.localdate():%Y%m%d}|{pk}|{variant}"
    return "directory:fragment:" + hashlib.sha256(raw.encode()).hexdigest()


def entry_fragments(
    template_name: str,
    institutions: Sequence,
    prepare: Callable[[list], object] | None = None,
    variant: str = "",
) -> list[SafeString]:
    """Each institution rendered with ``template_name``, from the cache when current.

    The template gets ``{"institution": institution}`` and nothing else: no request, so no
    context processor runs and neither the visitor, their menu nor a CSRF token can end up in
    a fragment another visitor is served. ``prepare(missing)`` runs once, before rendering, on
    the institutions not found in the cache (to prefetch what only the template needs). A
    fragment is stored with the directory version read *before* rendering, so a change that
    commits meanwhile makes it stale at once, as for pages. ``variant`` names what else the
    fragment depends on (the search whose matched occupations it highlights).
    """
    keys = [fragment_key(template_name, institution.pk, variant) for institution in institutions]
    version, found = None, {}
    if keys:
        try:
            found = cache.get_many([VERSION_KEY, *keys])
            version = found.get(VERSION_KEY)
            if version is None:
                version = _start_version()
        except Exception:  # noqa: BLE001 - the cache is an optimisation: render without it
            logger.warning("directory cache unreachable; rendering the entries")
            version, found = None, {}
    html: list[str | None] = []
    for key in keys:
        entry = found.get(key)
        html.append(entry[1] if version is not None and entry is not None and entry[0] == version else None)
    missing = [i for i, fragment in enumerate(html) if fragment is None]
    if missing:
        if prepare is not None:
            prepare([institutions[i] for i in missing])
        fresh = {}
        for i in missing:
            html[i] = render_to_string(template_name, {"institution": institutions[i]})
            fresh[keys[i]] = (version, html[i])
        if version is not None:
            try:
                cache.set_many(fresh, FRAGMENT_TTL)
            except Exception:  # noqa: BLE001
                logger.warning("directory cache unreachable; entries not stored")
    return [mark_safe(fragment) for fragment in html]  # noqa: S308 - rendered by our own templates above
