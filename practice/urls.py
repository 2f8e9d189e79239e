from django.urls import path

from practice import views

app_name = "practice"
urlpatterns = [
    path("", views.home, name="home"),
    path("start/", views.start, name="start"),
    path("mock/<int:round_id>/start/", views.mock_start, name="mock_start"),
    path("sessions/<int:session_id>/", views.session, name="session"),
    path("sessions/<int:session_id>/answer/", views.answer, name="answer"),
    path("sessions/<int:session_id>/finish/", views.finish, name="finish"),
    path("insights/", views.insights, name="insights"),
]
