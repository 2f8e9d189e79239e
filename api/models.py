"""API tokens: one organisation's credential for its API clients (another portal, a dashboard), with scopes.

Only a SHA-256 digest of a token is stored (``key_digest``); the token itself is shown once, when an organiser
creates it in the admin (``api.services.api_token_create``). Tokens are long random strings (256 bits), so a
fast hash is enough: there is nothing to guess that a slow hash would protect (unlike passwords).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organisation


class Scope(models.TextChoices):
    """What a token may read of its organisation's data (public data needs no scope, nor a token)."""

    CONTESTS = "contests:read", _("Cuộc thi và đợt thi của tổ chức (cả bản nháp)")
    RESULTS = "results:read", _("Kết quả của tổ chức (cả phiên bản chưa công bố), tên đã che")
    PARTICIPATION = "participation:read", _("Số liệu tham gia theo đơn vị của tổ chức")
    FLAGS = "flags:read", _("Cảnh báo gian lận của tổ chức")
    PERSONAL_DATA = "personal_data:read", _("Dữ liệu cá nhân đầy đủ (họ tên, ngày sinh, số điện thoại, số định danh)")


def validate_scopes(value: object) -> None:
    from django.core.exceptions import ValidationError

    if not isinstance(value, list) or any(s not in Scope.values for s in value):
        raise ValidationError(_("Phạm vi truy cập không hợp lệ."))


class ApiToken(models.Model):
    """A bearer token of one organisation. Revoked tokens stay (who had access, and when, is a trace the law
    asks for); ``revoked_at`` ends them."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="api_tokens",
                                     verbose_name=_("tổ chức"))
    name = models.CharField(_("tên ứng dụng"), max_length=120,
                            help_text=_("Ứng dụng hoặc cổng thông tin dùng mã này, ví dụ: Cổng liên thông của Sở."))
    key_prefix = models.CharField(_("đầu mã"), max_length=12, editable=False,
                                  help_text=_("Vài ký tự đầu của mã để nhận ra mã, không đủ để dùng."))
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("phạm vi truy cập"), default=list, blank=True, validators=[validate_scopes])
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("người tạo"), editable=False)
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    expires_at = models.DateTimeField(_("hết hạn lúc"), null=True, blank=True,
                                      help_text=_("Để trống: không tự hết hạn."))
    last_used_at = models.DateTimeField(_("dùng lần cuối lúc"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("thu hồi lúc"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("người thu hồi"), editable=False)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "mã truy cập API")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "mã truy cập API")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])
