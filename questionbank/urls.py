from django.urls import path

from questionbank import views

app_name = "questionbank"
urlpatterns = [
    path("template.xlsx", views.template_download, name="template"),
    path("<int:question_id>/preview/", views.question_preview, name="preview"),
]
