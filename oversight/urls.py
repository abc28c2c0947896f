from oversight.views import audit, cases, complaints, coverage, dashboards, roster, statistics

app_name = "oversight"

urlpatterns = [
    *coverage.urlpatterns,
    *cases.urlpatterns,
    *complaints.urlpatterns,
    *roster.urlpatterns,
    *statistics.urlpatterns,
    *audit.urlpatterns,
    *dashboards.urlpatterns,
]
