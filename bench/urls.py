from django.http import HttpResponse
from django.urls import include, path

from portal.access import public


@public
def bare(request):
    """The baseline: through every middleware, no query, no template."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare), path("", include("portal.urls"))]
