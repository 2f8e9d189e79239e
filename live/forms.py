"""Forms of live games: they parse and check input; ``live.services`` decide and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from accounts.tenancy import organisation_ids_for
from contests.models import Contest, Round
from live.models import (
    MAX_QUESTIONS,
    MAX_SECONDS_PER_QUESTION,
    MIN_SECONDS_PER_QUESTION,
    GameMode,
    JoinPolicy,
    LateJoin,
    LiveScoring,
)
from live.services.sessions import HOST_ROLES
from questionbank.models import Difficulty, Topic


class SessionForm(forms.Form):
    """A new game: its settings and where its questions come from (a round's blueprint, or a draw from the bank
    by topic and difficulty, plus or instead of fixed question ids)."""

    title = forms.CharField(label=_("Tên trò chơi"), max_length=200)
    organisation = forms.ModelChoiceField(label=_("Đơn vị tổ chức"), queryset=Organisation.objects.none())
    mode = forms.ChoiceField(label=_("Hình thức"), choices=GameMode.choices, initial=GameMode.CLASSIC)
    scoring = forms.ChoiceField(label=_("Cách tính điểm"), choices=LiveScoring.choices, initial=LiveScoring.PLAIN)
    streak_bonus = forms.BooleanField(label=_("Thưởng chuỗi câu đúng liên tiếp (+100 điểm mỗi câu, tối đa +500)"),
                                      required=False)
    seconds_per_question = forms.IntegerField(label=_("Thời gian mỗi câu (giây)"), initial=20,
                                              min_value=MIN_SECONDS_PER_QUESTION, max_value=MAX_SECONDS_PER_QUESTION)
    join_policy = forms.ChoiceField(label=_("Ai được tham gia"), choices=JoinPolicy.choices,
                                    initial=JoinPolicy.ANONYMOUS)
    late_join = forms.ChoiceField(label=_("Vào muộn"), choices=LateJoin.choices, initial=LateJoin.OPEN)
    contest = forms.ModelChoiceField(
        label=_("Cuộc thi"), queryset=Contest.objects.none(), required=False,
        help_text=_("Bắt buộc khi chỉ cho thí sinh đã đăng ký tham gia: kết quả được lưu thành một đợt thi."))
    source_round = forms.ModelChoiceField(label=_("Lấy câu hỏi theo cấu trúc đề của đợt thi"),
                                          queryset=Round.objects.none(), required=False)
    topic = forms.ModelChoiceField(label=_("Chủ đề"), queryset=Topic.objects.all(), required=False,
                                   empty_label=_("Mọi chủ đề"))
    difficulty = forms.ChoiceField(label=_("Độ khó"), choices=[("", _("Mọi độ khó")), *Difficulty.choices],
                                   required=False)
    count = forms.IntegerField(label=_("Số câu rút ngẫu nhiên"), min_value=0, max_value=MAX_QUESTIONS, initial=10,
                               required=False)
    question_ids = forms.CharField(label=_("Mã các câu hỏi cố định (cách nhau bởi dấu phẩy)"), required=False,
                                   max_length=2000)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        org_ids = Organisation.objects.values_list("pk", flat=True) if user.is_superuser \
            else organisation_ids_for(user, HOST_ROLES)
        self.fields["organisation"].queryset = Organisation.objects.filter(pk__in=list(org_ids)).order_by("name")
        self.fields["contest"].queryset = Contest.objects.filter(organisation_id__in=list(org_ids))
        self.fields["source_round"].queryset = Round.objects.filter(
            contest__organisation_id__in=list(org_ids)).select_related("contest")
        if self.fields["organisation"].queryset.count() == 1:
            self.fields["organisation"].initial = self.fields["organisation"].queryset.first()

    def clean_question_ids(self) -> list[int]:
        raw = self.cleaned_data.get("question_ids") or ""
        ids = []
        for part in raw.replace(";", ",").split(","):
            part = part.strip().lstrip("#")
            if not part:
                continue
            if not part.isdigit() or len(part) > 18:
                raise forms.ValidationError(_("Mã câu hỏi phải là số: %(value)s"), params={"value": part})
            ids.append(int(part))
        if len(set(ids)) != len(ids):
            raise forms.ValidationError(_("Một câu hỏi được nhập hai lần."))
        return ids

    def blueprint(self) -> list[dict] | None:
        """The blueprint asked for (None: the round's)."""
        data = self.cleaned_data
        if data.get("source_round") is not None:
            return None
        blueprint: list[dict] = []
        if data.get("question_ids"):
            blueprint.append({"question_ids": data["question_ids"], "points": None})
        if data.get("count"):
            blueprint.append({"topic_id": data["topic"].pk if data.get("topic") else None,
                              "difficulty": data.get("difficulty") or None, "count": data["count"], "points": None})
        return blueprint

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors and data.get("source_round") is None and not (data.get("count") or data.get("question_ids")):
            raise forms.ValidationError(_("Chọn một đợt thi, hoặc số câu rút ngẫu nhiên, hoặc các câu hỏi cố định."))
        return data


class JoinForm(forms.Form):
    pin = forms.CharField(label=_("Mã PIN"), max_length=12,
                          widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off",
                                                        "pattern": "[0-9 ]*"}))
    nickname = forms.CharField(label=_("Biệt danh"), max_length=60, required=False,
                               widget=forms.TextInput(attrs={"autocomplete": "nickname"}))
