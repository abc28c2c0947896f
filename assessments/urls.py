from django.urls import path

from assessments.views import candidates, drafting, plans, results, staffing, supervision
from assessments.views import clock as clock_views

app_name = "assessments"

urlpatterns = [
    path("", plans.plan_list, name="plan_list"),
    path("new/", plans.plan_create, name="plan_create"),
    path("<int:pk>/", plans.plan_detail, name="plan_detail"),
    path("<int:pk>/act/<str:action>/", plans.plan_act, name="plan_act"),
    path("overdue/", clock_views.overdue_list, name="overdue_list"),
    *drafting.urlpatterns,
    *staffing.urlpatterns,
    *candidates.urlpatterns,
    *results.urlpatterns,
    *supervision.urlpatterns,
]
