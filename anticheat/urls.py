from django.urls import path

from anticheat import views

app_name = "anticheat"
urlpatterns = [
    path("rounds/<int:round_id>/", views.queue, name="queue"),
    path("attempts/<int:attempt_id>/", views.timeline, name="timeline"),
    path("attempts/<int:attempt_id>/decide/", views.decide, name="decide"),
    path("attempts/<int:attempt_id>/revert/", views.revert, name="revert"),
    path("rounds/<int:round_id>/analyse/", views.analyse, name="analyse"),
]
