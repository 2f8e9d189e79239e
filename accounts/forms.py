"""Forms of the citizen side of accounts: they parse and check input; services do the writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import login_policy, selectors
from accounts.models import User
from accounts.services import guardian_consent_required, normalise_email
from accounts.validators import ascii_digits, normalise_phone, validate_national_id, validate_phone

CONSENT_FIELDS = ("privacy_consent", "guardian_consent")


class AccessibleFormMixin:
    """Moves keyboard focus to the first field with an error (autofocus) when the form is shown again.

    Django 5.2 already links errors and help texts to inputs with aria-describedby and sets aria-invalid.
    """

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        for name in self.fields:  # type: ignore[attr-defined]
            if name in self.errors:  # type: ignore[attr-defined]
                self.fields[name].widget.attrs["autofocus"] = True  # type: ignore[attr-defined]
                break


class DigitsField(forms.CharField):
    """A number typed as text (the ID number): full-width or other-script digits become ASCII before any check,
    so one number has one spelling in the database (and its once-per-contest constraint holds)."""

    def to_python(self, value: Any) -> str:
        return ascii_digits(super().to_python(value))


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d")


DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"]


def _clean_phone(value: str) -> str:
    if not value:
        return ""
    validate_phone(value)
    return normalise_phone(value)


def _check_date_of_birth(value: dt.date | None) -> None:
    if value is None:
        return
    today = timezone.localdate()
    if value > today:
        raise ValidationError(_("Ngày sinh không được ở tương lai."), code="future")
    if value.year < today.year - 120:
        raise ValidationError(_("Ngày sinh không hợp lệ."), code="too_old")


class UnitChoiceField(forms.ModelChoiceField):
    """A <select> of units with <optgroup> per organisation kind, in Vietnamese alphabetical order, searchable
    on a phone (``static/js/unit-picker.js`` adds a search box to every ``select[data-unit-picker]``)."""

    def __init__(self, *, include_id: int | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.Select(attrs={"data-unit-picker": ""}))
        super().__init__(queryset=selectors.unit_queryset(include_id=include_id),
                         empty_label=_("— Chọn đơn vị —"), **kwargs)
        groups = selectors.unit_choices(include_id=include_id)
        self.choices = [("", self.empty_label), *groups]


class SignupForm(AccessibleFormMixin, forms.Form):
    full_name = forms.CharField(label=_("Họ và tên"), max_length=150,
                                widget=forms.TextInput(attrs={"autocomplete": "name"}))
    date_of_birth = forms.DateField(label=_("Ngày sinh"), widget=_date_widget(), input_formats=DATE_INPUT_FORMATS,
                                    validators=[_check_date_of_birth])
    phone = forms.CharField(
        label=_("Số điện thoại"), required=False, max_length=20,
        help_text=_("Dùng để đăng nhập và nhận mã khi quên mật khẩu. Cần số điện thoại hoặc email."),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(label=_("Email"), required=False,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    national_id = DigitsField(
        label=_("Số định danh cá nhân (CCCD)"), required=False, max_length=12, min_length=12,
        validators=[validate_national_id],
        help_text=_("Không bắt buộc. 12 chữ số; có thể cần để xác minh khi nhận giải."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    password1 = forms.CharField(label=_("Mật khẩu"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text=password_validators_help_text_html())
    password2 = forms.CharField(label=_("Nhập lại mật khẩu"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    guardian_name = forms.CharField(label=_("Họ tên cha, mẹ hoặc người giám hộ"), required=False, max_length=150)
    guardian_phone = forms.CharField(
        label=_("Số điện thoại của người giám hộ"), required=False, max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    guardian_consent = forms.BooleanField(
        label=_("Tôi là cha, mẹ hoặc người giám hộ của thí sinh và đồng ý cho thí sinh đăng ký, "
                "dự thi và cho xử lý dữ liệu cá nhân của thí sinh theo Thông báo xử lý dữ liệu cá nhân."),
        required=False,
    )
    privacy_consent = forms.BooleanField(
        label=_("Tôi đã đọc và đồng ý với Thông báo xử lý dữ liệu cá nhân."),
        error_messages={"required": _("Bạn cần đồng ý với Thông báo xử lý dữ liệu cá nhân để đăng ký.")},
    )

    guardian_fields = ("guardian_name", "guardian_phone", "guardian_consent")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"] = UnitChoiceField(label=_("Đơn vị dự thi"),
                                              help_text=_("Phường, xã, cơ quan hoặc trường nơi bạn sinh sống, "
                                                          "làm việc hoặc học tập."))
        self.order_fields(["full_name", "date_of_birth", "unit", "phone", "email", "national_id",
                           "password1", "password2", *self.guardian_fields, "privacy_consent"])
        # Consent is never given by default: whatever initial values a caller passes, an unbound form
        # shows the consent boxes unticked.
        for name in CONSENT_FIELDS:
            self.fields[name].initial = False
            self.initial.pop(name, None)

    @property
    def main_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.fields if n not in self.guardian_fields and n != "privacy_consent"]

    @property
    def guardian_bound_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.guardian_fields]

    def clean_phone(self) -> str:
        phone = _clean_phone(self.cleaned_data.get("phone", ""))
        if phone and selectors.phone_taken(phone=phone):
            raise ValidationError(_("Số điện thoại này đã được đăng ký. Bạn có thể đăng nhập hoặc lấy lại mật khẩu."),
                                  code="taken")
        return phone

    def clean_email(self) -> str:
        email = normalise_email(self.cleaned_data.get("email"))
        if email and selectors.email_taken(email=email):
            raise ValidationError(_("Email này đã được đăng ký. Bạn có thể đăng nhập hoặc lấy lại mật khẩu."),
                                  code="taken")
        return email

    def clean_guardian_phone(self) -> str:
        return _clean_phone(self.cleaned_data.get("guardian_phone", ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not cleaned.get("phone") and not cleaned.get("email") and "phone" not in self.errors \
                and "email" not in self.errors:
            self.add_error("phone", ValidationError(_("Cần có số điện thoại hoặc email (ít nhất một trong hai)."),
                                                    code="phone_or_email"))
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", ValidationError(_("Hai mật khẩu không khớp."), code="password_mismatch"))
        elif password1:
            probe = User(full_name=cleaned.get("full_name", ""), phone=cleaned.get("phone") or None,
                         email=cleaned.get("email") or None)
            try:
                validate_password(password1, user=probe)
            except ValidationError as exc:
                self.add_error("password1", exc)
        born = cleaned.get("date_of_birth")
        if born is not None and guardian_consent_required(date_of_birth=born):
            message = _("Bắt buộc với thí sinh dưới %(age)s tuổi.") % {"age": settings.GUARDIAN_CONSENT_AGE}
            for name in self.guardian_fields:
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, ValidationError(message, code="guardian_required"))
        return cleaned


class LoginPolicyFormMixin:
    """A login refused by the login policy shows the policy's message (code ``throttled``) instead of
    "wrong password"; ``LoginPolicyMiddleware`` answers it with 429."""

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()  # type: ignore[misc]
        except ValidationError:
            refusal = login_policy.refusal_of(self.request)  # type: ignore[attr-defined]
            if refusal is not None:
                raise ValidationError(refusal.message, code="throttled") from None
            raise


class StaffLoginForm(LoginPolicyFormMixin, AdminAuthenticationForm):
    """The admin's login form (``admin.site.login_form``) under the same login policy as the citizens'."""


class LoginForm(LoginPolicyFormMixin, AccessibleFormMixin, AuthenticationForm):
    error_messages = {
        "invalid_login": _("Số điện thoại/email hoặc mật khẩu không đúng."),
        "inactive": _("Tài khoản này đã bị khoá."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Số điện thoại hoặc email")
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autocapitalize": "none"})
        self.fields["password"].label = _("Mật khẩu")


class ProfileForm(AccessibleFormMixin, forms.Form):
    full_name = forms.CharField(label=_("Họ và tên"), max_length=150,
                                widget=forms.TextInput(attrs={"autocomplete": "name"}))
    date_of_birth = forms.DateField(label=_("Ngày sinh"), widget=_date_widget(), input_formats=DATE_INPUT_FORMATS,
                                    validators=[_check_date_of_birth])
    phone = forms.CharField(label=_("Số điện thoại"), required=False, max_length=20,
                            widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}))
    email = forms.EmailField(label=_("Email"), required=False,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    national_id = DigitsField(
        label=_("Số định danh cá nhân (CCCD)"), required=False, max_length=12, min_length=12,
        validators=[validate_national_id], help_text=_("Không bắt buộc. 12 chữ số."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, user: User, frozen: set[str], **kwargs: Any) -> None:
        profile = getattr(user, "profile", None)
        kwargs.setdefault("initial", {
            "full_name": user.full_name, "phone": user.phone or "", "email": user.email or "",
            "date_of_birth": getattr(profile, "date_of_birth", None), "unit": getattr(profile, "unit_id", None),
            "national_id": getattr(profile, "national_id", ""),
        })
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["unit"] = UnitChoiceField(label=_("Đơn vị dự thi"), include_id=getattr(profile, "unit_id", None))
        self.order_fields(["full_name", "date_of_birth", "unit", "phone", "email", "national_id"])
        if profile is None:  # staff without a citizen profile: these are theirs to leave empty
            self.fields["date_of_birth"].required = False
            self.fields["unit"].required = False
        for name in frozen:
            if name in self.fields:
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Đã khoá: thông tin này không sửa được sau khi bạn đã dự thi.")

    def clean_phone(self) -> str:
        phone = _clean_phone(self.cleaned_data.get("phone", ""))
        if phone and selectors.phone_taken(phone=phone, exclude_user_id=self.user.pk):
            raise ValidationError(_("Số điện thoại này đã được dùng cho tài khoản khác."), code="taken")
        return phone

    def clean_email(self) -> str:
        email = normalise_email(self.cleaned_data.get("email"))
        if email and selectors.email_taken(email=email, exclude_user_id=self.user.pk):
            raise ValidationError(_("Email này đã được dùng cho tài khoản khác."), code="taken")
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not cleaned.get("phone") and not cleaned.get("email") and "phone" not in self.errors \
                and "email" not in self.errors:
            self.add_error("phone", ValidationError(
                _("Cần giữ lại số điện thoại hoặc email (ít nhất một trong hai) để đăng nhập."), code="phone_or_email"))
        return cleaned

    def changes(self) -> dict[str, Any]:
        """The submitted values of the fields the citizen may edit."""
        return {name: self.cleaned_data[name] for name, field in self.fields.items()
                if not field.disabled and name in self.cleaned_data}


class SmsResetRequestForm(AccessibleFormMixin, forms.Form):
    phone = forms.CharField(label=_("Số điện thoại đã đăng ký"), max_length=20,
                            widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}))

    def clean_phone(self) -> str:
        return _clean_phone(self.cleaned_data["phone"])


class ContactConfirmForm(AccessibleFormMixin, forms.Form):
    """The code sent to a new phone number or e-mail address (prefixed by the kind: one form per pending change
    on the profile page)."""

    code = forms.RegexField(
        label=_("Mã xác nhận (6 chữ số)"), regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Mã xác nhận gồm 6 chữ số.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6}),
    )


class SmsResetVerifyForm(AccessibleFormMixin, forms.Form):
    phone = forms.CharField(label=_("Số điện thoại đã đăng ký"), max_length=20,
                            widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}))
    code = forms.RegexField(
        label=_("Mã xác nhận (6 chữ số)"), regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Mã xác nhận gồm 6 chữ số.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6}),
    )
    new_password1 = forms.CharField(label=_("Mật khẩu mới"), strip=False,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                    help_text=password_validators_help_text_html())
    new_password2 = forms.CharField(label=_("Nhập lại mật khẩu mới"), strip=False,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean_phone(self) -> str:
        return _clean_phone(self.cleaned_data["phone"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        password1, password2 = cleaned.get("new_password1"), cleaned.get("new_password2")
        if password1 and password2 and password1 != password2:
            self.add_error("new_password2", ValidationError(_("Hai mật khẩu không khớp."), code="password_mismatch"))
        elif password1:
            try:
                validate_password(password1)
            except ValidationError as exc:
                self.add_error("new_password1", exc)
        return cleaned


class EmailResetForm(AccessibleFormMixin, PasswordResetForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("Email đã đăng ký")


class NewPasswordForm(AccessibleFormMixin, SetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = _("Mật khẩu mới")
        self.fields["new_password2"].label = _("Nhập lại mật khẩu mới")


class CurrentPasswordChangeForm(AccessibleFormMixin, PasswordChangeForm):
    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_incorrect": _("Mật khẩu hiện tại không đúng."),
        "password_mismatch": _("Hai mật khẩu không khớp."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("Mật khẩu hiện tại")
        self.fields["new_password1"].label = _("Mật khẩu mới")
        self.fields["new_password2"].label = _("Nhập lại mật khẩu mới")


class DeleteAccountForm(AccessibleFormMixin, forms.Form):
    password = forms.CharField(label=_("Mật khẩu hiện tại"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    confirm = forms.BooleanField(
        label=_("Tôi hiểu rằng tài khoản và dữ liệu cá nhân của tôi sẽ bị xoá vĩnh viễn, không thể khôi phục."),
        error_messages={"required": _("Vui lòng đánh dấu xác nhận để xoá tài khoản.")},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(_("Mật khẩu không đúng."), code="wrong_password")
        return password
