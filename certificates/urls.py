"""URLs of the certificates app (namespace ``certificates``), mounted at the site root by portal/urls.py.

Each views module ends with its own ``urlpatterns``. The school's and authorities' pages are
under /certificates/ (add a module's patterns to ``PAGES``); the public verification lives at
/verify/ and /api/v1/certificates/ (certificates/views/verify.py, certificates/api.py), so the QR
link ``certificates:verify_token`` reads /verify/t/<token>/.
"""

from django.urls import include, path

from certificates import api
from certificates.views import issuance, photos, records, reporting, verify

app_name = "certificates"

PAGES: list = []
PAGES += [*records.urlpatterns, *photos.urlpatterns, *reporting.urlpatterns]
PAGES += issuance.urlpatterns

urlpatterns = [
    path("certificates/", include(PAGES)),
    *verify.urlpatterns,
    *api.urlpatterns,
]
