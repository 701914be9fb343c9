"""The Django admin site with the same failed-login limits as the API login (accounts.login_throttle)."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpResponse

from accounts import login_throttle


class AdminSite(admin.AdminSite):
    def login(self, request, extra_context=None):
        if request.method != "POST":
            return super().login(request, extra_context)
        email = request.POST.get("username", "").strip().lower()
        # Counted before the password hash, as the API login does; a failure unless it succeeds.
        attempt = login_throttle.LoginAttempt(email, login_throttle.client_address(request))
        wait = attempt.begin()
        if wait is not None:
            response = HttpResponse("Too many failed logins. Try again later.", status=429, content_type="text/plain")
            response["Retry-After"] = str(wait)
            return response
        try:
            response = super().login(request, extra_context)
        except BaseException:
            attempt.abandon()
            raise
        # A successful admin login redirects with a staff user signed in; anything else is a failure.
        if response.status_code == 302 and request.user.is_authenticated and request.user.is_staff:
            attempt.succeeded()
        return response


class ThrottledAdminConfig(AdminConfig):
    """Replaces `django.contrib.admin` in INSTALLED_APPS so that `admin.site` is the site above."""

    default_site = "accounts.admin_site.AdminSite"
