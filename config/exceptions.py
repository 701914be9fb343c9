"""The API's error contract: every error under /api/ is `{"detail", "code", "fields"?}` JSON.

Services raise `ApiError` subclasses (each app names its codes in its own `errors.py`); this module turns
them, DRF's exceptions and Django's into that shape. Anything unexpected becomes a logged JSON 500 with the
request id and no traceback in the body.
"""

import logging
from enum import StrEnum

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from config.logging import loggable_path

logger = logging.getLogger("thebot.errors")


class ErrorCode(StrEnum):
    """Codes shared by every app; domain codes live in each app's errors.py."""

    INVALID = "invalid"
    PARSE_ERROR = "parse_error"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    INVALID_AUTH_HEADER = "invalid_auth_header"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    REQUEST_TOO_LARGE = "request_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    THROTTLED = "throttled"
    SERVER_ERROR = "server_error"
    SERVICE_UNAVAILABLE = "service_unavailable"


class ApiError(Exception):
    """A domain error a service raises; the handler renders it. Subclass per app with its own codes."""

    status_code = 400

    def __init__(
        self,
        detail: str,
        code: str = ErrorCode.INVALID,
        *,
        status: int | None = None,
        fields: dict | None = None,
        extra: dict | None = None,
    ):
        super().__init__(detail)
        self.detail = detail  # a str, or a lazy translation rendered in the request's language
        self.code = str(code)
        self.fields = fields
        self.extra = extra or {}
        if status is not None:
            self.status_code = status


class Conflict(ApiError):
    status_code = 409

    def __init__(self, detail: str, code: str = ErrorCode.CONFLICT, **kwargs):
        super().__init__(detail, code, **kwargs)


class NotFound(ApiError):
    status_code = 404

    def __init__(self, detail: str = _("Not found."), code: str = ErrorCode.NOT_FOUND, **kwargs):
        super().__init__(detail, code, **kwargs)


def error_body(detail: str, code: str, fields: dict | None = None, extra: dict | None = None) -> dict:
    body = {"detail": str(detail), "code": str(code)}  # str(): a lazy translation, in the request's language
    if fields is not None:
        body["fields"] = fields
    if extra:
        body.update(extra)
    return body


def json_error(status: int, detail: str, code: str, fields: dict | None = None) -> JsonResponse:
    return JsonResponse(error_body(detail, code, fields), status=status)


def _fields_from(detail) -> dict:
    if isinstance(detail, dict):
        return {key: _messages(value) for key, value in detail.items()}
    return {"non_field_errors": _messages(detail)}


def _messages(value) -> list | dict:
    if isinstance(value, dict):
        return {key: _messages(item) for key, item in value.items()}
    if isinstance(value, list):
        flat = []
        for item in value:
            flat.extend(_messages(item) if isinstance(item, list) else [item if isinstance(item, dict) else str(item)])
        return flat
    return [str(value)]


_DRF_CODES = {
    drf.ParseError: ErrorCode.PARSE_ERROR,
    drf.AuthenticationFailed: ErrorCode.AUTHENTICATION_FAILED,
    drf.NotAuthenticated: ErrorCode.NOT_AUTHENTICATED,
    drf.PermissionDenied: ErrorCode.PERMISSION_DENIED,
    drf.NotFound: ErrorCode.NOT_FOUND,
    drf.MethodNotAllowed: ErrorCode.METHOD_NOT_ALLOWED,
    drf.UnsupportedMediaType: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    drf.Throttled: ErrorCode.THROTTLED,
}


# --- The database out of reach ----------------------------------------------------------------------------------
# PostgreSQL stopped, restarting or unreachable: the pool gives up after DATABASE_POOL_TIMEOUT (psycopg_pool's
# PoolTimeout, an OperationalError that Django re-raises as django.db.OperationalError), or a connection dies under
# a query (OperationalError, or InterfaceError once it is closed). That is an outage, not a bug: the client gets 503
# with `Retry-After` and the JSON contract, the log one WARNING line without a traceback.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
DATABASE_RETRY_AFTER_SECONDS = 1
DATABASE_UNAVAILABLE_DETAIL = "The service is temporarily unavailable; try again shortly."


def is_database_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, DATABASE_UNAVAILABLE)


def _log_database_unavailable(exc: BaseException, request) -> None:
    path = loggable_path(request) if request is not None else None
    logger.warning(
        "database unavailable",
        extra={
            "fields": {
                "path": path,
                "method": getattr(request, "method", None),
                "error": f"{type(exc.__cause__ or exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            }
        },
    )


def database_unavailable_response(exc: BaseException, request) -> JsonResponse:
    """The 503 of an outage, for Django views and middleware (DRF views get theirs from api_exception_handler)."""
    _log_database_unavailable(exc, request)
    response = json_error(503, DATABASE_UNAVAILABLE_DETAIL, ErrorCode.SERVICE_UNAVAILABLE)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER."""
    if is_database_unavailable(exc):
        request = context.get("request")
        _log_database_unavailable(exc, request)
        body = error_body(DATABASE_UNAVAILABLE_DETAIL, ErrorCode.SERVICE_UNAVAILABLE)
        return Response(body, status=503, headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})
    if isinstance(exc, ApiError):
        return Response(error_body(exc.detail, exc.code, exc.fields, exc.extra), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = drf.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, RequestDataTooBig):
        return Response(error_body(_("Request body is too large."), ErrorCode.REQUEST_TOO_LARGE), status=413)
    elif isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return Response(error_body(str(exc), ErrorCode.INVALID), status=400)

    if isinstance(exc, drf.ValidationError):
        return Response(error_body(_("Invalid input."), ErrorCode.INVALID, _fields_from(exc.detail)), status=400)
    if isinstance(exc, drf.APIException):
        code = _DRF_CODES.get(type(exc))
        if code is None:
            base = next((klass for klass in _DRF_CODES if isinstance(exc, klass)), None)
            if base is not None and exc.default_code == base.default_code:
                code = _DRF_CODES[base]
            else:
                # Not one of DRF's, or a subclass naming its own code (accounts' `invalid_auth_header`).
                code = exc.default_code if isinstance(exc.default_code, str) else ErrorCode.INVALID
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return Response(error_body(detail, code), status=exc.status_code, headers=headers)

    request = context.get("request")
    path = loggable_path(request) if request is not None else None
    logger.exception("unhandled error", extra={"fields": {"path": path, "method": getattr(request, "method", None)}})
    response = Response(error_body(_("Internal server error."), ErrorCode.SERVER_ERROR), status=500)
    # Logged above with the traceback; stop django.request from logging the same 500 again without it.
    response._has_been_logged = True
    return response


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def handler404(request, exception=None):
    if _is_api(request):
        return json_error(404, _("Not found."), ErrorCode.NOT_FOUND)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


API_NOT_FOUND = "api-not-found"


@csrf_exempt  # it changes nothing; without this a POST from a client without a CSRF cookie got Django's HTML 403
def api_not_found(request, *args, **kwargs):
    """The catch-all under /api/ (config/urls.py): a JSON 404, also with DEBUG on.

    Django's APPEND_SLASH never fires under /api/ because this catch-all matches every path, so it is done here:
    a GET or HEAD to a path that exists with a trailing slash is redirected there (301, query string kept); another
    method is not redirected (a client would resend a POST as a GET, or drop its body) and gets a 404 naming the
    right path."""
    path = request.path_info
    if not path.endswith("/") and _resolves(path + "/"):
        if request.method in ("GET", "HEAD"):
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
        return json_error(404, _("Not found. Did you mean %(path)s/?") % {"path": request.path}, ErrorCode.NOT_FOUND)
    return json_error(404, _("Not found."), ErrorCode.NOT_FOUND)


def _resolves(path: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.url_name != API_NOT_FOUND


def handler500(request):
    # Django has logged the exception through django.request (with our request id filter).
    if _is_api(request):
        return json_error(500, _("Internal server error."), ErrorCode.SERVER_ERROR)
    from django.views.defaults import server_error

    return server_error(request)


def handler400(request, exception=None):
    if _is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return json_error(413, _("Request body is too large."), ErrorCode.REQUEST_TOO_LARGE)
        return json_error(400, _("Bad request."), ErrorCode.INVALID)
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def handler403(request, exception=None):
    if _is_api(request):
        return json_error(403, _("You do not have permission to perform this action."), ErrorCode.PERMISSION_DENIED)
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)
