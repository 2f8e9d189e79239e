from django.urls import path

from contests import views

app_name = "contests"
urlpatterns = [
    path("", views.contest_list, name="list"),
    path("me/attempts/", views.my_attempts, name="my_attempts"),
    path("rounds/<int:round_id>/start/", views.round_start, name="start"),
    path("attempts/<int:attempt_id>/", views.exam, name="exam"),
    path("attempts/<int:attempt_id>/result/", views.result, name="result"),
    path("<slug:slug>/", views.contest_detail, name="detail"),
    path("<slug:slug>/register/", views.contest_register, name="register"),
]
