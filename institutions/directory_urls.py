from django.urls import path

from institutions import directory_views

# Included at /directory/ without a namespace: the public, no-login pages.
urlpatterns = [
    path("", directory_views.directory_list, name="directory"),
    path("<int:pk>/", directory_views.directory_detail, name="directory_detail"),
]
