from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import staff_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.CitizenLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", views.signup, name="signup"),
    path("privacy/", views.privacy_notice, name="privacy_notice"),
    path("profile/", views.profile, name="profile"),
    path("profile/contact/<str:kind>/confirm/", views.contact_confirm, name="contact_confirm"),
    path("profile/contact/<str:kind>/cancel/", views.contact_cancel, name="contact_cancel"),
    path("password/", views.CitizenPasswordChangeView.as_view(), name="password_change"),
    path("my-data/", views.my_data, name="my_data"),
    path("my-data/export/", views.my_data_export, name="my_data_export"),
    path("my-data/delete/", views.account_delete, name="account_delete"),
    path("password-reset/", views.EmailPasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.EmailPasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password-reset/sms/", views.sms_reset_request, name="sms_reset_request"),
    path("password-reset/sms/verify/", views.sms_reset_verify, name="sms_reset_verify"),
    path("reset/<uidb64>/<token>/", views.EmailPasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("reset/done/", views.EmailPasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("staff/", staff_views.staff, name="staff"),
]
