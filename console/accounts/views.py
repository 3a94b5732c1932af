from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from console.accounts.roles import ADMIN, role_of, role_required


@role_required(ADMIN, "user.list")
def user_list(request: HttpRequest) -> HttpResponse:
    users = get_user_model().objects.order_by("username").prefetch_related("groups")
    rows = [(u, role_of(u)) for u in users]
    return render(request, "accounts/users.html", {"rows": rows})
