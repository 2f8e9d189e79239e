from django.urls import path

from judging import views

app_name = "judging"
urlpatterns = [
    path("rounds/<int:round_id>/", views.round_page, name="round"),
    path("rankings/<int:ranking_id>/<str:action>/", views.ranking_decide, name="decide"),
    path("rounds/<int:round_id>/essays/", views.essay_queue, name="essays"),
    path("rounds/<int:round_id>/essays/assign/", views.essay_assign, name="essay_assign"),
    path("essays/<int:assignment_id>/", views.essay_grade, name="essay"),
    path("results/<int:round_id>/", views.published_list, name="published"),
    path("rankings/<int:ranking_id>/certificates/<int:position>.pdf", views.certificate, name="certificate"),
]
