"""Public certificate verification at /verify/ (no login; issue 9 §6): the forms, the QR link, the upload.

No session is touched for anonymous visitors; every answer is ``private, no-store``. The lookups,
the rate limit and the log are in ``certificates.services.verification``.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
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


def _result(request: HttpRequest, answer, *, asked_by: str) -> HttpResponse:
    return render(request, "certificates/verify/result.html", {"answer": answer, "asked_by": asked_by})


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
