from django.urls import path

from leaderboards import views

app_name = "leaderboards"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("rounds/<int:round_id>/", views.round_board, name="round"),
    path("rounds/<int:round_id>/official/", views.round_official, name="official"),
    path("rounds/<int:round_id>/units/", views.unit_dashboard, name="units"),
    path("contests/<slug:slug>/", views.contest_board, name="contest"),
    path("contests/<slug:slug>/units/", views.contest_unit_dashboard, name="contest_units"),
    path("contests/<slug:slug>/units/population/", views.contest_unit_populations, name="unit_populations"),
    path("contests/<slug:slug>/units/<int:unit_id>/", views.unit_participation, name="unit_participation"),
]
