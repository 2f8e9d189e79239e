from django.urls import path

from live import views

app_name = "live"
urlpatterns = [
    path("", views.session_list, name="index"),
    path("new/", views.session_new, name="new"),
    path("join/", views.join, name="join"),
    path("<int:session_id>/host/", views.host_page, name="host"),
    path("<int:session_id>/screen/", views.screen_page, name="screen"),
    path("<int:session_id>/qr.svg", views.qr_code, name="qr"),
    path("<int:session_id>/results/", views.results_page, name="results"),
    path("<int:session_id>/results.xlsx", views.results_workbook, name="results_xlsx"),
    path("<int:session_id>/play/", views.play, name="play"),
]
