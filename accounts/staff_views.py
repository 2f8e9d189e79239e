"""Organisers' page for the staff of their organisation: create a judge's (or other staff member's) account,
grant a role to an existing account, see who holds which role. Thin: accounts.organisations does the work."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.backends import find_user_by_login
from accounts.models import Membership, Organisation, Role
from accounts.organisations import MembershipError, membership_grant, staff_account_create
from accounts.tenancy import organisation_ids_for


class StaffAccountForm(forms.Form):
    organisation = forms.ModelChoiceField(label=gettext_lazy("Đơn vị"), queryset=Organisation.objects.none())
    role = forms.ChoiceField(label=gettext_lazy("Vai trò"), choices=Role.choices, initial=Role.JUDGE)
    full_name = forms.CharField(label=gettext_lazy("Họ và tên"), max_length=150)
    phone = forms.CharField(label=gettext_lazy("Số điện thoại (dùng để đăng nhập)"), max_length=15)
    email = forms.EmailField(label=gettext_lazy("Email"), required=False)

    def __init__(self, *args, organisations=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        if organisations is not None and organisations.count() == 1:
            self.fields["organisation"].initial = organisations.first()


class GrantRoleForm(forms.Form):
    organisation = forms.ModelChoiceField(label=gettext_lazy("Đơn vị"), queryset=Organisation.objects.none())
    role = forms.ChoiceField(label=gettext_lazy("Vai trò"), choices=Role.choices, initial=Role.JUDGE)
    login = forms.CharField(label=gettext_lazy("Số điện thoại hoặc email của tài khoản"), max_length=254)

    def __init__(self, *args, organisations=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        if organisations is not None and organisations.count() == 1:
            self.fields["organisation"].initial = organisations.first()


@login_required
@require_http_methods(["GET", "POST"])
def staff(request: HttpRequest) -> HttpResponse:
    org_ids = organisation_ids_for(request.user, [Role.ORGANISER])
    if not org_ids and not request.user.is_superuser:
        raise PermissionDenied
    organisations = Organisation.objects.filter(pk__in=org_ids).order_by("name")
    create = StaffAccountForm(request.POST if request.POST.get("do") == "create" else None,
                              organisations=organisations, prefix="new")
    grant = GrantRoleForm(request.POST if request.POST.get("do") == "grant" else None, organisations=organisations,
                          prefix="grant")
    created = None
    status = 200
    if request.method == "POST":
        status = 400
        if request.POST.get("do") == "create" and create.is_valid():
            try:
                user, password = staff_account_create(
                    actor=request.user, organisation=create.cleaned_data["organisation"],
                    full_name=create.cleaned_data["full_name"], phone=create.cleaned_data["phone"],
                    email=create.cleaned_data.get("email", ""), role=create.cleaned_data["role"])
            except MembershipError as exc:
                create.add_error(None, exc.message)
            else:
                created = {"user": user, "password": password,
                           "role": dict(Role.choices)[create.cleaned_data["role"]],
                           "organisation": create.cleaned_data["organisation"]}
                create = StaffAccountForm(organisations=organisations, prefix="new")
                status = 200
        elif request.POST.get("do") == "grant" and grant.is_valid():
            user = find_user_by_login(grant.cleaned_data["login"])
            if user is None:
                grant.add_error("login", _("Không tìm thấy tài khoản với số điện thoại hoặc email này."))
            else:
                try:
                    membership_grant(actor=request.user, user=user, organisation=grant.cleaned_data["organisation"],
                                     role=grant.cleaned_data["role"])
                except MembershipError as exc:
                    grant.add_error(None, exc.message)
                else:
                    from django.contrib import messages

                    messages.success(request, _("Đã cấp vai trò %(role)s cho %(name)s.") % {
                        "role": dict(Role.choices)[grant.cleaned_data["role"]], "name": user.get_full_name()})
                    grant = GrantRoleForm(organisations=organisations, prefix="grant")
                    status = 200
    members = (Membership.objects.filter(organisation__in=organisations).select_related("user", "organisation")
               .order_by("organisation__name", "role", "user__full_name"))
    return render(request, "accounts/staff.html", {"create": create, "grant": grant, "created": created,
                                                   "members": members}, status=status)
