from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Simplified Chinese unless the user chose another language with the switcher.

    The browser's Accept-Language is not consulted: officials share machines set up in many
    ways, and the legal terms of the notice are authoritative in Chinese.
    """

    def process_request(self, request):
        code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if code not in dict(settings.LANGUAGES):
            code = settings.LANGUAGE_CODE
        translation.activate(code)
        request.LANGUAGE_CODE = translation.get_language()


class PrivateWhenCsrfTokenUsedMiddleware:
    """A response that carries this visitor's CSRF token is never stored by a shared cache.

    Whatever the view said (``Cache-Control: public`` included), a page whose rendering used
    the token gets ``private, no-store`` and ``Vary: Cookie``. Pages that do not use the token
    (the anonymous public directory, cached in Redis) keep their own caching headers.
    Must sit inside ``CsrfViewMiddleware``, which clears the flag it reads here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
            if "Cache-Control" in response:
                cache_control = response["Cache-Control"].split(",")
                kept = [
                    d.strip()
                    for d in cache_control
                    if d.strip() and d.strip().split("=")[0].lower() not in {"public", "max-age", "s-maxage"}
                ]
                response["Cache-Control"] = ", ".join(kept)
            patch_cache_control(response, private=True, no_store=True)
            patch_vary_headers(response, ("Cookie",))
        return response


def has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    data = [request.GET]
    if request.method == "POST":
        data.append(request.POST)
    return any("\x00" in key or any("\x00" in v for v in values) for query in data for key, values in query.lists())


class RefuseNulCharactersMiddleware:
    """A NUL character in the path, a query parameter or a form field is answered with 400.

    PostgreSQL cannot store or compare text containing NUL: without this, ``?q=%00`` reached
    the database and answered 500. No form of the portal has a use for it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if has_nul(request):
            return render(
                request,
                "400.html",
                {"problem": _("请求中含有不允许的空字符（NUL），请检查输入后重试。")},
                status=400,
            )
        return self.get_response(request)


class ErrorPageMiddleware:
    """Django's bare 405 (``require_POST`` and friends) shown as the portal's own page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if isinstance(response, HttpResponseNotAllowed):
            page = render(request, "405.html", {"allowed": response["Allow"]}, status=405)
            page["Allow"] = response["Allow"]
            return page
        return response
