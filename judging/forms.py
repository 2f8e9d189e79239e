"""Forms of the judging pages: parsing and field errors only; the rules live in judging.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from judging.models import CertificateSettings, ComplaintOutcome
from leaderboards.models import PrizeTieRule


def _count_field(label: Any) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, max_value=100_000, initial=0,
                              widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "count"}))


class PrizesForm(forms.Form):
    """Individual prizes per tier and collective prizes per kind, with the reason for the decision history."""

    first = _count_field(_("Giải Nhất"))
    second = _count_field(_("Giải Nhì"))
    third = _count_field(_("Giải Ba"))
    encouragement = _count_field(_("Giải Khuyến khích"))
    entrants = _count_field(_("Giải tập thể: đơn vị có nhiều người dự thi nhất"))
    rate = _count_field(_("Giải tập thể: đơn vị có tỉ lệ tham gia cao nhất"))
    winners = _count_field(_("Giải tập thể: đơn vị có nhiều người đoạt giải nhất"))
    reason = forms.CharField(label=_("Căn cứ / lý do"), max_length=1000,
                             help_text=_("Ví dụ: theo Điều 8 Thể lệ cuộc thi; ghi vào lịch sử quyết định."),
                             widget=forms.TextInput(attrs={"class": "wide"}))

    INDIVIDUAL = ("first", "second", "third", "encouragement")
    COLLECTIVE = ("entrants", "rate", "winners")

    def prizes(self) -> dict[str, int]:
        return {name: self.cleaned_data[name] or 0 for name in self.INDIVIDUAL}

    def collective(self) -> dict[str, int]:
        return {name: self.cleaned_data[name] or 0 for name in self.COLLECTIVE}

    @classmethod
    def for_ranking(cls, ranking: Any, data: Any = None) -> PrizesForm:
        initial = {name: int((ranking.prizes or {}).get(name, 0)) for name in cls.INDIVIDUAL}
        initial.update({name: int((ranking.collective_prizes or {}).get(name, 0)) for name in cls.COLLECTIVE})
        return cls(data, initial=initial)


class PrizeTieForm(forms.Form):
    """The organiser's choice for ties at a prize line (``PrizeTieRule``, never "undecided") and its basis.
    Prefixed: the prizes form on the same page has a ``reason`` too."""

    prefix = "tie"

    rule = forms.ChoiceField(label=_("Cách xử lý"), widget=forms.RadioSelect,
                             choices=[(v, label) for v, label in PrizeTieRule.choices if v])
    reason = forms.CharField(label=_("Căn cứ / lý do"), max_length=1000,
                             help_text=_("Ví dụ: theo Điều 9 Thể lệ cuộc thi; ghi vào lịch sử quyết định."),
                             widget=forms.TextInput(attrs={"class": "wide"}))


class ComplaintForm(forms.Form):
    contestant = forms.CharField(label=_("Số điện thoại hoặc số định danh của thí sinh"), max_length=20)
    received_at = forms.DateTimeField(label=_("Nhận đơn lúc"), required=False,
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                      help_text=_("Để trống: bây giờ."))
    channel = forms.CharField(label=_("Hình thức gửi"), max_length=100, required=False,
                              help_text=_("Ví dụ: đơn giấy, thư điện tử, điện thoại."))
    content = forms.CharField(label=_("Nội dung khiếu nại"), max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 4}))


class ComplaintDecisionForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Kết luận"), choices=ComplaintOutcome.choices, widget=forms.RadioSelect)
    decision = forms.CharField(label=_("Nội dung kết luận"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))


class CertificateSettingsForm(forms.ModelForm):
    class Meta:
        model = CertificateSettings
        fields = ("superior_body", "issuing_body", "place", "signer_title", "signer_name", "number_sign")
