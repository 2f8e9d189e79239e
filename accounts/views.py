"""Citizen account pages: sign-up, login, password reset (e-mail link or SMS code), profile, my data.

Views parse input, ask the login policy (accounts.login_policy), call accounts.services and render. Refused
requests get HTTP 429 with a Vietnamese message and the form shown again (nothing is checked or sent).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import contact_change, login_policy, ratelimit, selectors, services, signals
from accounts.forms import (
    ContactConfirmForm,
    CurrentPasswordChangeForm,
    DeleteAccountForm,
    EmailResetForm,
    LoginForm,
    NewPasswordForm,
    ProfileForm,
    SignupForm,
    SmsResetRequestForm,
    SmsResetVerifyForm,
)
from accounts.ratelimit import RateLimitResult, client_address

BACKEND = "accounts.backends.PhoneOrEmailBackend"
SMS_RESET_SESSION_KEY = "accounts_sms_reset_request"  # {"phone": …, "token": …}


def _blocked_message(result: RateLimitResult | list[RateLimitResult]) -> str:
    """The refusal's message in Vietnamese; of several refused limits, the one that lasts longest."""
    results = result if isinstance(result, list) else [result]
    return login_policy.Refusal(retry_after=max(r.retry_after for r in results)).message


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


# --- Sign-up and login -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    template = "accounts/signup.html"
    if request.method == "POST":
        address = client_address(request)
        limit = ratelimit.ratelimit_peek(scope="signup:address", identifier=address,
                                         limit=settings.SIGNUP_LIMIT_PER_ADDRESS)
        if not limit.allowed:
            return render(request, template, {"form": SignupForm(), "blocked_message": _blocked_message(limit),
                                              "guardian_age": settings.GUARDIAN_CONSENT_AGE}, status=429)
        form = SignupForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = services.citizen_register(
                    full_name=data["full_name"], password=data["password1"], date_of_birth=data["date_of_birth"],
                    unit=data["unit"], privacy_consent=data["privacy_consent"], phone=data["phone"],
                    email=data["email"], national_id=data["national_id"], guardian_name=data["guardian_name"],
                    guardian_phone=data["guardian_phone"], guardian_consent=data["guardian_consent"],
                )
            except services.RegistrationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                # Only accounts actually created count against the address: people correcting a form
                # behind a shared carrier address must not lock each other out.
                ratelimit.ratelimit_hit(scope="signup:address", identifier=address,
                                        limit=settings.SIGNUP_LIMIT_PER_ADDRESS)
                signals.citizen_signed_up.send_robust(
                    sender=type(user), user=user, address=address, at=timezone.now(),
                    user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
                    device=request.COOKIES.get("ce_device", "")[:64])
                login(request, user, backend=BACKEND)
                messages.success(request, _("Đăng ký thành công. Chào mừng bạn!"))
                return redirect(_safe_next(request, reverse(settings.LOGIN_REDIRECT_URL)))
    else:
        form = SignupForm()
    return render(request, template, {"form": form, "next": _safe_next(request, ""),
                                      "guardian_age": settings.GUARDIAN_CONSENT_AGE})


class CitizenLoginView(auth_views.LoginView):
    """Login by phone or e-mail. The limits are the login policy's (accounts.login_policy), applied by the
    authentication backend to every login entry point alike; a refused attempt shows the form again with the
    policy's message, answered 429 by ``LoginPolicyMiddleware``."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


def privacy_notice(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/privacy_notice.html", {
        "version": settings.PRIVACY_NOTICE_VERSION,
        "guardian_age": settings.GUARDIAN_CONSENT_AGE,
        "sms_code_minutes": settings.SMS_RESET_CODE_TTL_SECONDS // 60,
    })


# --- Password reset by e-mail (Django's views, Vietnamese templates, rate-limited) --------------


class EmailPasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    form_class = EmailResetForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: EmailResetForm) -> HttpResponse:
        email = form.cleaned_data["email"]
        refusal = login_policy.reset_request_allowed(self.request, login=email,
                                                     user=selectors.active_user_by_email(email=email))
        if refusal is not None:
            context = self.get_context_data(form=self.get_form_class()(), blocked_message=refusal.message)
            return self.render_to_response(context, status=429)
        return super().form_valid(form)


class EmailPasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class EmailPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = NewPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form: NewPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        services.audit_record(actor=None, action="account.password_reset", target=form.user,
                              data={"channel": "email"})
        login_policy.password_reset_completed(self.request, form.user)
        return response


class EmailPasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class CitizenPasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = CurrentPasswordChangeForm
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form: CurrentPasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)  # keeps this session, ends the others
        services.audit_record(actor=self.request.user, action="account.password_changed", target=self.request.user)
        messages.success(self.request, _("Đã đổi mật khẩu."))
        return response


# --- Password reset by SMS code ----------------------------------------------------------------


def _sms_reset_token(request: HttpRequest, phone: str, *, create: bool) -> str | None:
    """The token of this browser's reset request for ``phone`` (kept in its session): the code sent for the request
    can only be redeemed with it, so codes typed elsewhere never touch it (accounts.login_policy)."""
    pending = request.session.get(SMS_RESET_SESSION_KEY) or {}
    if not isinstance(pending, dict):
        pending = {}
    if pending.get("phone") == phone and pending.get("token"):
        return str(pending["token"])
    if not create:
        return None
    token = secrets.token_urlsafe(24)
    request.session[SMS_RESET_SESSION_KEY] = {"phone": phone, "token": token}
    return token


@require_http_methods(["GET", "POST"])
def sms_reset_request(request: HttpRequest) -> HttpResponse:
    template = "accounts/sms_reset_request.html"
    form = SmsResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        refusal = login_policy.reset_request_allowed(request, login=phone,
                                                     user=selectors.active_user_by_phone(phone=phone))
        if refusal is not None:
            return render(request, template, {"form": SmsResetRequestForm(), "blocked_message": refusal.message},
                          status=429)
        services.sms_reset_code_issue(phone=phone, request_token=_sms_reset_token(request, phone, create=True))
        # The same message whether or not the number has an account.
        messages.info(request, _("Nếu số điện thoại này đã đăng ký, chúng tôi vừa gửi mã xác nhận gồm 6 chữ số "
                                 "qua tin nhắn. Mã có hiệu lực %(minutes)s phút.")
                      % {"minutes": settings.SMS_RESET_CODE_TTL_SECONDS // 60})
        return redirect("accounts:sms_reset_verify")
    return render(request, template, {"form": form})


@require_http_methods(["GET", "POST"])
def sms_reset_verify(request: HttpRequest) -> HttpResponse:
    template = "accounts/sms_reset_verify.html"
    if request.method == "POST":
        refusal = login_policy.reset_code_check_allowed(request)
        if refusal is not None:
            return render(request, template, {"form": SmsResetVerifyForm(), "blocked_message": refusal.message},
                          status=429)
        form = SmsResetVerifyForm(request.POST)
        if form.is_valid():
            phone = form.cleaned_data["phone"]
            try:
                user = services.sms_reset_code_redeem(
                    phone=phone, code=form.cleaned_data["code"], new_password=form.cleaned_data["new_password1"],
                    request_token=_sms_reset_token(request, phone, create=False))
            except services.ResetCodeError as exc:
                login_policy.reset_code_failed(request)
                form.add_error("code", exc.message)
            except ValidationError as exc:
                form.add_error("new_password1", exc)
            else:
                request.session.pop(SMS_RESET_SESSION_KEY, None)
                login_policy.password_reset_completed(request, user)
                messages.success(request, _("Đã đặt lại mật khẩu. Vui lòng đăng nhập bằng mật khẩu mới."))
                return redirect("accounts:login")
    else:
        pending = request.session.get(SMS_RESET_SESSION_KEY)
        form = SmsResetVerifyForm(initial={"phone": pending.get("phone", "") if isinstance(pending, dict) else ""})
    return render(request, template, {"form": form})


# --- Profile and personal data -----------------------------------------------------------------


def _contact_change_limits(request: HttpRequest, *, kind: str, value: str) -> list[RateLimitResult]:
    """The password-reset limits (settings.PASSWORD_RESET_LIMIT_PER_*), counted in scopes of their own: per new
    address, per account and per client address — so a flood of change requests cannot use up someone's reset
    budget, nor send codes to many numbers from one account."""
    identifier = ratelimit.login_identifier(value)
    return [
        ratelimit.ratelimit_hit(scope="contact-change:identifier", identifier=identifier,
                                limit=settings.PASSWORD_RESET_LIMIT_PER_IDENTIFIER),
        ratelimit.ratelimit_hit(scope="contact-change:account", identifier=str(request.user.pk),
                                limit=settings.PASSWORD_RESET_LIMIT_PER_IDENTIFIER),
        ratelimit.ratelimit_hit(scope="contact-change:address", identifier=client_address(request),
                                limit=settings.PASSWORD_RESET_LIMIT_PER_ADDRESS),
    ]


def _profile_page(request: HttpRequest, form: ProfileForm, frozen: set[str], status: int = 200,
                  blocked_message: str = "") -> HttpResponse:
    pending = contact_change.contact_change_pending(user=request.user)
    return render(request, "accounts/profile.html", {
        "form": form, "frozen": frozen, "blocked_message": blocked_message,
        "pending": [(kind, pending[kind], ContactConfirmForm(prefix=kind)) for kind in ("phone", "email")
                    if kind in pending],
        "code_minutes": settings.SMS_RESET_CODE_TTL_SECONDS // 60,
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """The citizen's own data. A new phone number or e-mail address is not saved at once: a code goes to it
    (accounts.contact_change) and the page asks for it; everything else is saved."""
    frozen = services.profile_frozen_fields(request.user)
    form = ProfileForm(request.POST or None, user=request.user, frozen=frozen)
    if request.method == "POST" and form.is_valid():
        direct, confirm = contact_change.contact_changes_split(user=request.user, changes=form.changes())
        blocked = [r for kind, value in confirm.items()
                   for r in _contact_change_limits(request, kind=kind, value=value) if not r.allowed]
        if blocked:
            return _profile_page(request, form, frozen, status=429, blocked_message=_blocked_message(blocked))
        try:
            with transaction.atomic():  # all or nothing: a refused new address leaves the other fields as they were
                changed = services.profile_update(user=request.user, changes=direct, actor=request.user)
                for kind, value in confirm.items():
                    contact_change.contact_change_request(user=request.user, kind=kind, value=value)
        except services.AccountError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            if confirm:
                messages.info(request, _("Chúng tôi vừa gửi mã xác nhận gồm 6 chữ số đến %(where)s. Nhập mã bên "
                                         "dưới để hoàn tất việc đổi; trước đó tài khoản vẫn dùng thông tin cũ.")
                              % {"where": _(" và ").join(_mask(kind, value) for kind, value in confirm.items())})
            if changed:
                messages.success(request, _("Đã lưu thông tin của bạn."))
            elif not confirm:
                messages.info(request, _("Không có thông tin nào thay đổi."))
            return redirect("accounts:profile")
    return _profile_page(request, form, frozen)


def _mask(kind: str, value: str) -> str:
    """"số 0912 ••• 678" / "địa chỉ n•••@example.vn": enough to recognise it, on a page others may see."""
    if kind == "phone":
        return _("số %(phone)s") % {"phone": f"{value[:4]} ••• {value[-3:]}"}
    local, _at, domain = value.partition("@")
    return _("địa chỉ %(email)s") % {"email": f"{local[:1]}•••@{domain}"}


@login_required
@require_POST
def contact_confirm(request: HttpRequest, kind: str) -> HttpResponse:
    """The code sent to the new phone number or e-mail address; rate-limited per client address like the SMS
    password reset, and each code dies after SMS_RESET_CODE_MAX_TRIES wrong tries."""
    if kind not in ("phone", "email"):
        raise Http404
    address = client_address(request)
    frozen = services.profile_frozen_fields(request.user)
    limit = ratelimit.ratelimit_peek(scope="contact-verify:address", identifier=address,
                                     limit=settings.LOGIN_LIMIT_PER_ADDRESS)
    if not limit.allowed:
        return _profile_page(request, ProfileForm(user=request.user, frozen=frozen), frozen, status=429,
                             blocked_message=_blocked_message([limit]))
    form = ContactConfirmForm(request.POST, prefix=kind)
    if form.is_valid():
        try:
            contact_change.contact_change_confirm(user=request.user, kind=kind, code=form.cleaned_data["code"])
        except services.AccountError as exc:
            ratelimit.ratelimit_hit(scope="contact-verify:address", identifier=address,
                                    limit=settings.LOGIN_LIMIT_PER_ADDRESS)
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Đã đổi số điện thoại.") if kind == "phone" else _("Đã đổi email."))
    else:
        messages.error(request, _("Mã xác nhận gồm 6 chữ số."))
    return redirect("accounts:profile")


@login_required
@require_POST
def contact_cancel(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in ("phone", "email"):
        raise Http404
    if contact_change.contact_change_cancel(user=request.user, kind=kind):
        messages.info(request, _("Đã huỷ yêu cầu đổi; tài khoản vẫn dùng thông tin cũ."))
    return redirect("accounts:profile")


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/my_data.html", {"profile": getattr(request.user, "profile", None)})


@login_required
@require_POST
def my_data_export(request: HttpRequest) -> HttpResponse:
    data = services.personal_data_export(user=request.user)
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
    filename = f"du-lieu-cua-toi-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_anonymise(user=request.user, actor=request.user,
                                       reason=_("Người dùng tự yêu cầu xoá tài khoản."))
        except services.AnonymiseRefused as exc:
            form.add_error(None, exc.message)
        else:
            logout(request)
            messages.success(request, _("Tài khoản và dữ liệu cá nhân của bạn đã được xoá."))
            return redirect("home")
    return render(request, "accounts/account_delete.html", {"form": form})
