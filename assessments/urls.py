from django.urls import path

from assessments import views

app_name = "assessments"

urlpatterns = [
    path("", views.plan_list, name="plan_list"),
    path("new/", views.plan_create, name="plan_create"),
    path("<int:pk>/", views.plan_detail, name="plan_detail"),
    path("<int:pk>/act/<str:action>/", views.plan_act, name="plan_act"),
]
