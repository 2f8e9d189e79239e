from django.urls import path

from surveys import views

app_name = "surveys"
urlpatterns = [
    path("", views.survey_list, name="list"),
    path("<int:survey_id>/", views.survey_detail, name="detail"),
    path("<int:survey_id>/results/", views.survey_results, name="results"),
    path("<int:survey_id>/export/", views.survey_export, name="export"),
]
