"""The portal's error pages: its own layout, both languages, a way home.

404 and 403 render with the request (menu, user); 400 and 500 render without it, since they
may come from a request that never reached the middleware or from a broken database. The 405
page comes from ``portal.middleware.ErrorPageMiddleware``; 409 is ``templates/409.html``,
rendered by the workflow steps.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotFound,
    HttpResponseServerError,
)
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


def role_labels(roles) -> list[str]:
    from portal.models import Role

    labels = dict(Role.choices)
    return [str(labels.get(role, role)) for role in roles]


def _plain(status: int, heading: str) -> str:
    # When even the simple page cannot render (a missing static file in the manifest, say).
    return (
        f'<!doctype html><meta charset="utf-8"><title>{status}</title>'
        f'<h1>{status} {heading}</h1><p><a href="/">/</a></p>'
    )


def _without_request(template: str, status: int, heading: str) -> str:
    try:
        return render_to_string(template, {"PORTAL_NAME": settings.PORTAL_NAME})
    except Exception:  # the error page must never fail in turn
        logger.exception("rendering %s failed", template)
        return _plain(status, heading)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return HttpResponseBadRequest(_without_request("400.html", 400, _("请求有误")))


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    roles = getattr(exception, "roles", None) or ()
    context = {"required_roles": role_labels(roles)}
    try:
        return render(request, "403.html", context, status=403)
    except Exception:
        logger.exception("rendering 403.html failed")
        return HttpResponseForbidden(_plain(403, _("无权访问此页面")))


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    try:
        return render(request, "404.html", status=404)
    except Exception:
        logger.exception("rendering 404.html failed")
        return HttpResponseNotFound(_plain(404, _("页面不存在")))


def server_error(request: HttpRequest) -> HttpResponse:
    return HttpResponseServerError(_without_request("500.html", 500, _("服务器内部错误")))
