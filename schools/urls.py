from django.urls import path

from schools import views

app_name = "schools"

urlpatterns = [
    path("", views.school_list, name="school_list"),
    path("new/", views.school_new, name="school_new"),
    path("<int:pk>/", views.school_detail, name="school_detail"),
    path("<int:pk>/edit/", views.school_edit, name="school_edit"),
    path("<int:pk>/majors/", views.major_list, name="major_list"),
    path("<int:pk>/majors/import/", views.major_import, name="major_import"),
    path("<int:pk>/students/", views.student_list, name="student_list"),
    path("<int:pk>/students/import/", views.student_import, name="student_import"),
    path("students/<int:pk>/", views.student_detail, name="student_detail"),
    path("<int:pk>/through-programmes/", views.through_programmes, name="through_programmes"),
    path("through-programmes/<int:pk>/withdraw/", views.through_programme_withdraw, name="through_programme_withdraw"),
    path("through-programmes/<int:pk>/document/", views.through_programme_document, name="through_programme_document"),
    path("templates/majors.xlsx", views.major_template, name="major_template"),
    path("templates/students.xlsx", views.student_template, name="student_template"),
]
