from django.urls import path

from sharing import views

app_name = "sharing"
urlpatterns = [
    path("c/<str:code>/", views.short_link, name="short"),
    path("share/<slug:slug>/card.png", views.card, name="card"),
    path("share/", views.contest_list, name="list"),
    path("share/contests/<int:contest_id>/", views.panel, name="panel"),
    path("share/contests/<int:contest_id>/qr.svg", views.qr, {"kind": "svg"}, name="qr_svg"),
    path("share/contests/<int:contest_id>/qr.png", views.qr, {"kind": "png"}, name="qr_png"),
    path("share/contests/<int:contest_id>/card.png", views.staff_card, name="staff_card"),
    path("share/contests/<int:contest_id>/poster.pdf", views.poster, name="poster"),
]
