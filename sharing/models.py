"""A contest's short link (``/c/<code>/``): one random code per contest, made once and kept for good.

The code is stored, not derived from the contest (a hash of its id under the secret key would change with a
key rotation and break every printed poster); it is random, so it tells nothing about the contest and cannot
be guessed from a neighbour's; and it redirects only while the contest is published (docs/sharing.md).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from contests.models import Contest


class ShareLink(models.Model):
    tenant_path = "contest__organisation"

    contest = models.OneToOneField(Contest, on_delete=models.CASCADE, related_name="share_link",
                                   verbose_name=_("cuộc thi"))
    code = models.CharField(_("mã đường dẫn ngắn"), max_length=16, unique=True)
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)

    class Meta:
        verbose_name = pgettext_lazy("verbose_name", "đường dẫn chia sẻ")
        verbose_name_plural = pgettext_lazy("verbose_name_plural", "đường dẫn chia sẻ")

    def __str__(self) -> str:
        return self.code
