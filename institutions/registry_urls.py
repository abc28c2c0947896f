from django.urls import path

from institutions import registry_views

app_name = "registry"

urlpatterns = [
    path("", registry_views.institution_list, name="institution_list"),
    path("export.xlsx", registry_views.registry_export, name="export"),
    path("<int:pk>/", registry_views.institution_detail, name="institution_detail"),
    path("<int:pk>/<str:action>/", registry_views.institution_act, name="institution_act"),
    path("<int:pk>/occupations/<int:row_pk>/<str:action>/", registry_views.occupation_act, name="occupation_act"),
]
