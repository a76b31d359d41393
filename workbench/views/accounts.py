"""Signing in: what django-axes asks of the project (which username and address to count, and
the page shown while a lockout lasts)."""

import ipaddress

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render

from workbench.selectors import accounts as account_selectors


def typed_username(request, credentials) -> str | None:
    """The username a sign-in attempt is counted under: "Alice " and "alice" are one."""
    if credentials:
        value = credentials.get("username")
    else:
        value = getattr(request, "POST", {}).get("username")
    value = (value or "").strip().casefold()
    return value[:255] or None


def client_address(request) -> str | None:
    """The address a sign-in attempt is counted under.

    Behind our proxy (``BEHIND_TLS_PROXY``) that is the right-most X-Forwarded-For entry, the one
    the proxy appended; anything left of it came from the client and could be forged. Otherwise
    only the socket's address counts.
    """
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR")


def lockout_response(request, original_response=None, credentials=None):
    """The sign-in page with an explanation, for a known and an unknown account alike."""
    username = typed_username(request, credentials)
    ends = account_selectors.lockout_ends(
        username=username, ip_address=getattr(request, "axes_ip_address", None)
    )
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    context = {
        "form": form,
        "locked_minutes": account_selectors.minutes_left(ends),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "lockout_minutes": account_selectors.minutes_left(None),
        "next": request.POST.get("next", ""),
    }
    return render(
        request, "registration/login.html", context, status=settings.AXES_HTTP_RESPONSE_CODE
    )


class SignInView(auth_views.LoginView):
    """Django's sign-in page, saying up front how many failures lead to a pause."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["failure_limit"] = settings.AXES_FAILURE_LIMIT
        context["lockout_minutes"] = account_selectors.minutes_left(None)
        return context
