from django.urls import path

from judging import views

app_name = "judging"
urlpatterns = [
    path("", views.home, name="home"),
    path("rounds/<int:round_id>/", views.round_page, name="round"),
    path("rounds/<int:round_id>/recompute/", views.round_recompute, name="recompute"),
    path("rankings/<int:ranking_id>/prizes/", views.ranking_prizes, name="prizes"),
    path("rankings/<int:ranking_id>/prize-tie/", views.ranking_prize_tie, name="prize_tie"),
    path("rankings/<int:ranking_id>/<str:action>/", views.ranking_decide, name="decide"),
    path("rounds/<int:round_id>/essays/", views.essay_queue, name="essays"),
    path("rounds/<int:round_id>/essay-guides/", views.essay_guides, name="guides"),
    path("essays/<int:assignment_id>/", views.essay_grade, name="essay"),
    path("essays/<int:assignment_id>/correct/", views.essay_correct, name="essay_correct"),
    path("rounds/<int:round_id>/complaints/", views.complaint_list, name="complaints"),
    path("complaints/<int:complaint_id>/", views.complaint_detail, name="complaint"),
    path("rounds/<int:round_id>/certificate-settings/", views.certificate_settings, name="certificate_settings"),
    path("results/<int:round_id>/", views.published_list, name="published"),
    path("rankings/<int:ranking_id>/certificates.pdf", views.certificates_all, name="certificates"),
    path("rankings/<int:ranking_id>/certificates/<int:position>.pdf", views.certificate, name="certificate"),
]
