import ipaddress
import re
import time
import uuid

from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.http import Http404, HttpResponse
from django.utils.cache import add_never_cache_headers

_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXIES)


def client_address(remote_addr: str, forwarded_for: str) -> str:
    """The client's address: REMOTE_ADDR, unless that is a trusted proxy; then the nearest address in
    X-Forwarded-For that is not a trusted proxy (those further left could have been written by anyone)."""
    address = remote_addr
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    while _trusted(address) and hops:
        hop = hops.pop()
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break
        address = hop
    return address


class ClientAddressMiddleware:
    """Sign-in throttling and the audit trail read REMOTE_ADDR: make it the client's address when the
    request came through a trusted proxy (TRUSTED_PROXIES); a forwarding header from anyone else is ignored."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.TRUSTED_PROXIES:
            remote = request.META.get("REMOTE_ADDR", "")
            request.META["REMOTE_ADDR"] = client_address(remote, request.META.get("HTTP_X_FORWARDED_FOR", ""))
        return self.get_response(request)


class RequestIdMiddleware:
    """Give every request an id, echoed as X-Request-ID and kept in the audit trail."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        # A client's id is kept only when it is plainly an id: anything else would land in the audit trail.
        request.request_id = incoming if _SAFE_ID.fullmatch(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


class NoStoreMiddleware:
    """Nothing a signed-in user is shown is kept by a browser or a proxy (static files answer before this)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated:
            add_never_cache_headers(response)
        return response


class EngineScopeMiddleware:
    """Pages under /engines/<name>/ work on that engine: `request.engine` is its row, `engine.using` its name
    (so clients, the snapshot, roles and the audit trail all concern it). An engine that does not exist, or
    that the user has no role on, answers 404 alike, so its name does not leak."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from console.engine.core import enter

        enter(None)  # a thread serves one request at a time: nothing of the last one's engine is kept
        request.engine = None
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if "engine" not in view_kwargs:
            return None
        from console.accounts.roles import can_see_engine
        from console.engine.core import enter
        from console.engines.models import Engine

        name = view_kwargs.pop("engine")
        row = Engine.objects.filter(name=name).first()
        if row is None and name == settings.ENGINE_NAME:
            row = Engine.objects.ensure_environment()
        if row is None or (request.user.is_authenticated and not can_see_engine(request.user, name)):
            raise Http404("No such engine.")
        request.engine = row
        enter(name)
        return None


class RoleRequiredMiddleware:
    """No default-allow: every view needs at least the Viewer role (on its engine, for an engine's pages;
    anywhere, for the pages that span engines) unless it declares more (`role_required` sets
    `required_role`) or is public (`login_not_required`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from console.accounts.roles import VIEWER, deny, has_role, highest_role

        match = request.resolver_match
        if not getattr(view_func, "login_required", True) or (match and match.url_name == "logout"):
            return None
        if hasattr(view_func, "required_role"):
            return None  # `role_required` checks it, and records a refusal under the view's own action name
        if not request.user.is_authenticated:
            return None  # anonymous users are sent to the login page by LoginRequiredMiddleware
        scoped = getattr(request, "engine", None) is not None
        if has_role(request.user, VIEWER) if scoped else highest_role(request.user) is not None:
            return None
        return deny(request, VIEWER, f"page.{match.url_name if match else 'view'}", request.path)


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """Django's, except that an htmx request from a tab whose session has ended gets a 401 (static/console.js
    then says "session expired — reload") instead of the login page swapped into a fragment."""

    def handle_no_permission(self, request, view_func):
        if request.headers.get("HX-Request") == "true":
            return HttpResponse("Your session expired — reload the page.", status=401)
        return super().handle_no_permission(request, view_func)


class RejectNulMiddleware:
    """No field, name or id holds a NUL character, and PostgreSQL cannot store one: a request with one in its
    path or parameters is refused here, in one place, with a plain message; nothing is changed or recorded."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        params = [*request.GET.lists(), *(request.POST.lists() if request.method == "POST" else ())]
        if "\x00" in request.path or any("\x00" in k or any("\x00" in v for v in vs) for k, vs in params):
            return HttpResponse(
                "Bad request: a value holds a NUL character, which no field accepts. Nothing was changed.\n",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


RENEWED = "_renewed"  # the session key holding when the session was last renewed (seconds since the epoch)


def renewal_interval() -> float:
    """How often a session in use is renewed: once a minute, or more often when the idle time is short."""
    return min(60.0, settings.SESSION_COOKIE_AGE / 10)


class SessionRenewalMiddleware:
    """A session ends SESSION_COOKIE_AGE seconds after its last use. Instead of saving it on every request
    (a database write each time), it is renewed when its last renewal is older than `renewal_interval()`:
    a session then ends between the idle time less that interval and the idle time after its last use."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.is_empty() or session.modified:
            return response  # nothing to renew, or saved anyway
        now = time.time()
        if now - session.get(RENEWED, 0) >= renewal_interval():
            session[RENEWED] = now
        return response
