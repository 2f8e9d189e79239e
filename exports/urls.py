from django.urls import path

from exports import views

app_name = "exports"
urlpatterns = [
    path("round/<int:pk>/", views.export_page, {"scope": "round"}, name="round"),
    path("round/<int:pk>/request/", views.export_request, {"scope": "round"}, name="round_request"),
    path("round/<int:pk>/statistics/", views.round_statistics_page, name="round_statistics"),
    path("contest/<int:pk>/", views.export_page, {"scope": "contest"}, name="contest"),
    path("contest/<int:pk>/request/", views.export_request, {"scope": "contest"}, name="contest_request"),
    path("jobs/<int:job_id>/", views.job_page, name="job"),
    path("jobs/<int:job_id>/status.json", views.job_status, name="status"),
    path("jobs/<int:job_id>/download/", views.job_download, name="download"),
]
