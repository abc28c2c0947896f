"""Public certificate verification at /verify/ (no login; issue 9 §6): the forms, the QR link, the upload.

No session is touched for anonymous visitors; every answer is ``private, no-store``. The lookups,
the rate limit and the log are in ``certificates.services.verification``.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import urlencode
from django.template.loader import render_to_string
from django.urls import path
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from certificates.models import Channel
from certificates.services import verification
from portal.access import public

BY_NUMBER = "number"
BY_ID = "id"


def _text(label, max_length: int, **attrs) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        strip=True,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off", "spellcheck": "false", **attrs}),
    )


class ByNumberForm(forms.Form):
    number = _text(_("证书编号"), 30, inputmode="latin")
    name = _text(_("姓名"), 50)


class ByIdForm(forms.Form):
    id_number = _text(_("证件号码"), 30, inputmode="latin")
    name = _text(_("姓名"), 50)


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("证书PDF文件"),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": "application/pdf,.pdf"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.PORTAL_VERIFY_UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("文件过大：证书PDF不超过%(mb)s MB。"), params={"mb": f"{limit / 1024 / 1024:g}"}, code="too_large"
            )
        return upload


def _limited(request: HttpRequest) -> HttpResponse:
    response = render(request, "certificates/verify/limited.html", status=429)
    response["Retry-After"] = "60"
    return response


# The result page of an anonymous visitor is the same around the answer for everyone in a language
# (menu, footer, language links but for the page's own address in them): that part is rendered once
# per process and language, with markers, and each answer is set into it; only the answer itself is
# rendered per request (tests/certificates/test_verify_shell.py: byte for byte the full render).
# Logged-in visitors, and requests carrying a session or flash messages, get the full render.
RESULT = "certificates/verify/result.html"
_SHELL_MARK = mark_safe("<!--verify-answer-->")  # noqa: S308 - a constant
_SHELL_PATH = "/verify/t/shell-path-mark/"
_shells: dict[str, tuple[str, str, str]] = {}


def _shell(request: HttpRequest) -> tuple[str, str, str]:
    """(before the answer, after it, the marked path as the page writes it) for the active language."""
    language = get_language()
    shell = _shells.get(language)
    if shell is None:
        marked = copy.copy(request)
        marked.path = marked.path_info = _SHELL_PATH
        marked.META = {**request.META, "QUERY_STRING": ""}
        html = render_to_string(RESULT, {"shell_marker": _SHELL_MARK}, request=marked)
        before, after = html.split(_SHELL_MARK)
        shell = (before, after, escape(urlencode(_SHELL_PATH)))
        if not settings.DEBUG:  # templates may change under the development server
            _shells[language] = shell
    return shell


def _plain_anonymous(request: HttpRequest) -> bool:
    cookies = request.COOKIES
    return (
        settings.SESSION_COOKIE_NAME not in cookies and "messages" not in cookies and not request.user.is_authenticated
    )


# The answer itself: rendered once per language and shape (status; which optional fields are
# empty) with marker values, then the certificate's own values are set in, escaped as the template
# escapes them. An answer with several certificates is rendered in full.
RESULT_BODY = "certificates/verify/_result.html"
_TEXT_FIELDS = (
    "name",
    "masked_id_number",
    "occupation",
    "work_type",
    "level_label",
    "institution",
    "revoked_reason",
    "superseded_by",
)
_DAY_MARK = dt.date(2999, 12, 30)
_MOMENT_MARK = dt.datetime(2999, 12, 30, 10, 58, tzinfo=dt.UTC)
_bodies: dict[tuple, str] = {}
_MARK = re.compile("\x02([a-z_]+)\x02")


def _day(value) -> str:
    return date_filter(value, "Y-m-d")


def _moment(value) -> str:
    return date_filter(template_localtime(value), "Y-m-d H:i")


def _answer_html(answer, context: dict) -> str:
    found = answer.certificates
    if len(found) > 1:
        return render_to_string(RESULT_BODY, context)
    c = found[0] if found else None
    shape = (
        get_language(),
        c.status if c else None,
        *((bool(getattr(c, f)) for f in _TEXT_FIELDS) if c else ()),
        c.revoked_at is not None if c else None,
    )
    body = _bodies.get(shape)
    if body is None:
        marked = answer
        if c is not None:
            marks = {f: f"\x02{f}\x02" if getattr(c, f) else "" for f in _TEXT_FIELDS}
            moment = _MOMENT_MARK if c.revoked_at is not None else None
            marked = type(answer)((dataclasses.replace(c, issued_on=_DAY_MARK, revoked_at=moment, **marks),))
        body = render_to_string(RESULT_BODY, {**context, "answer": marked})
        if not settings.DEBUG:
            _bodies[shape] = body
    if c is None:
        return body
    # Dates before values (a value may hold any text); the moment before the day it begins with.
    if c.revoked_at is not None:
        body = body.replace(_moment(_MOMENT_MARK), _moment(c.revoked_at))
    body = body.replace(_day(_DAY_MARK), _day(c.issued_on))
    return _MARK.sub(lambda m: escape(getattr(c, m.group(1))), body)  # one pass: no value is re-read


def _result(request: HttpRequest, answer, *, asked_by: str) -> HttpResponse:
    context = {"answer": answer, "asked_by": asked_by}
    if not _plain_anonymous(request):
        return render(request, RESULT, context)
    before, after, marked_path = _shell(request)
    before = before.replace(marked_path, escape(urlencode(request.get_full_path())))
    return HttpResponse(before + _answer_html(answer, context) + after)


@public
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The two forms (number + name, ID number + name); a POST answers on the result page."""
    by = request.POST.get("by") if request.method == "POST" else None
    number_form = ByNumberForm(request.POST if by == BY_NUMBER else None, prefix=BY_NUMBER)
    id_form = ByIdForm(request.POST if by == BY_ID else None, prefix=BY_ID)
    if by == BY_NUMBER and number_form.is_valid():
        data = number_form.cleaned_data
        answer = verification.lookup(
            request,
            channel=Channel.PAGE,
            asked=verification.asked_number(data["number"]),
            find=lambda: verification.by_number(data["number"], data["name"]),
        )
        return _limited(request) if answer is None else _result(request, answer, asked_by=BY_NUMBER)
    if by == BY_ID and id_form.is_valid():
        data = id_form.cleaned_data
        answer = verification.lookup(
            request,
            channel=Channel.PAGE,
            asked=verification.asked_id_number(data["id_number"]),
            find=lambda: verification.by_id_number(data["id_number"], data["name"]),
        )
        return _limited(request) if answer is None else _result(request, answer, asked_by=BY_ID)
    return render(
        request,
        "certificates/verify/form.html",
        {"number_form": number_form, "id_form": id_form, "by": by or BY_NUMBER},
    )


@public
@never_cache
@require_safe
def verify_token(request: HttpRequest, token: str) -> HttpResponse:
    """The QR code's link: the result at once, no form."""
    answer = verification.lookup(request, channel=Channel.QR, asked="token", find=lambda: verification.by_token(token))
    return _limited(request) if answer is None else _result(request, answer, asked_by="token")


@public
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def verify_upload(request: HttpRequest) -> HttpResponse:
    """An uploaded certificate PDF: genuine and unaltered or not, and its record's status."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read(settings.PORTAL_VERIFY_UPLOAD_MAX_BYTES + 1)
        result = verification.lookup_pdf(request, data)
        if result is None:
            return _limited(request)
        return render(request, "certificates/verify/upload_result.html", {"result": result})
    return render(request, "certificates/verify/upload.html", {"form": form})


urlpatterns = [
    path("verify/", verify, name="verify"),
    path("verify/t/<str:token>/", verify_token, name="verify_token"),
    path("verify/pdf/", verify_upload, name="verify_upload"),
]
