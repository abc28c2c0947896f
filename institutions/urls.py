from django.urls import path

from institutions import site_views, views

app_name = "institutions"

urlpatterns = [
    path("", views.application_list, name="application_list"),
    path("new/", views.application_create, name="application_create"),
    path("<int:pk>/", views.application_detail, name="application_detail"),
    path("<int:pk>/edit/", views.application_edit, name="application_edit"),
    path("<int:pk>/conditions/<int:condition>/", views.condition_edit, name="condition_edit"),
    path("<int:pk>/occupations/add/", views.occupation_add, name="occupation_add"),
    path("<int:pk>/act/<str:action>/", views.application_act, name="application_act"),
    path("<int:pk>/plan-and-sites/", site_views.plan_and_sites, name="plan_sites"),
    path("<int:pk>/work-plan.pdf", site_views.work_plan_download, name="work_plan_download"),
    path("sites/<int:pk>/rooms/", site_views.room_add, name="room_add"),
    path("sites/<int:pk>/delete/", site_views.site_delete, name="site_delete"),
    path("rooms/<int:pk>/delete/", site_views.room_delete, name="room_delete"),
    path("<int:pk>/panel/", views.panel_form, name="panel_form"),
    path("<int:pk>/findings/", views.findings, name="findings"),
    path("<int:pk>/conclude/", views.conclude, name="conclude"),
    path("<int:pk>/confirm/", views.confirm, name="confirm"),
    path("<int:pk>/receipt.pdf", views.receipt_download, name="receipt_download"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("evidence/<int:pk>/view/", views.evidence_view, name="evidence_view"),
    path("evidence/<int:pk>/delete/", views.evidence_delete, name="evidence_delete"),
    path("occupations/<int:pk>/edit/", views.occupation_edit, name="occupation_edit"),
    path("occupations/<int:pk>/delete/", views.occupation_delete, name="occupation_delete"),
]
