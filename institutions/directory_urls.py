from django.urls import path

from institutions import directory_views

# Included at /directory/ without a namespace: the public, no-login pages.
urlpatterns = [
    path("", directory_views.directory_list, name="directory"),
    path("export.xlsx", directory_views.directory_export, name="directory_export"),
    path("export/layout/", directory_views.directory_export_layout, name="directory_export_layout"),
    path("<int:pk>/", directory_views.directory_detail, name="directory_detail"),
]
