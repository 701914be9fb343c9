"""The OpenAPI schema: error responses derived from each view, typed profiles, list parameters, one schema per process.

`AutoSchema` (DRF's DEFAULT_SCHEMA_CLASS) adds to every operation the error responses the view can answer, each
with the one `Error` component (`{detail, code, fields?}`, config/exceptions.py) and the codes of that status:

- 400 `invalid` (+ `parse_error` with a body) when the operation takes a body or query parameters that are checked;
- 401 `authentication_failed` / `invalid_auth_header` when the view authenticates, plus `not_authenticated` when
  it requires a user;
- 403 `permission_denied` when one of its permission classes refuses some role (probed with one user per role);
- 404 `not_found` when the path has a parameter or the list is paginated (a page past the end);
- 413 `request_too_large` and 415 `unsupported_media_type` with a body; the upload codes (400/413) when the body
  carries a file;
- 429 `throttled` when the view has throttles.

Codes the generic rules cannot know (the domain codes of each app's errors.py that a service raises) are declared
next to the view method with `@api_errors({409: [...], ...})`. 405 is never listed.
"""

import itertools
from collections import defaultdict
from collections.abc import Iterable

import uritemplate
from django.contrib.auth import get_user_model
from drf_spectacular import openapi
from drf_spectacular.extensions import (
    OpenApiFilterExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.plumbing import ResolvedComponent, build_parameter_type
from rest_framework import serializers
from rest_framework.mixins import ListModelMixin
from rest_framework.permissions import AllowAny

from config.exceptions import ErrorCode

# --- What each code means ------------------------------------------------------------------------------------
# Shown in the response descriptions and as the examples' `detail`. Domain codes are those of each app's errors.py.
CODE_DESCRIPTIONS: dict[str, str] = {
    # shared (config/exceptions.py)
    "invalid": "The input is invalid; `fields` names each wrong field.",
    "parse_error": "The body could not be parsed (malformed JSON or multipart, or JSON nested too deep).",
    "not_authenticated": "No credentials were sent.",
    "authentication_failed": "The token is unknown, expired or revoked, or the account is inactive.",
    "invalid_auth_header": "The Authorization header is malformed.",
    "permission_denied": "The caller's role or relation to the object does not allow this.",
    "not_found": "No such object, or not one the caller may see (also a page past the end of a list).",
    "conflict": "The object changed concurrently; try again.",
    "request_too_large": "The request body is larger than the server accepts.",
    "unsupported_media_type": "The body's Content-Type is not accepted here.",
    "throttled": "Too many requests; `Retry-After` says how many seconds to wait.",
    "service_unavailable": "The database is out of reach for the moment; retry after `Retry-After` seconds.",
    # uploads (files/checks.py)
    "file_too_large": "The file is larger than UPLOAD_MAX_FILE_SIZE.",
    "file_empty": "The file is empty.",
    "file_type_not_allowed": "The file's content is not of an allowed type.",
    "file_extension_mismatch": "The file's extension does not match its content.",
    # accounts
    "invalid_credentials": "Wrong email or password.",
    "email_taken": "A user with this email exists.",
    "wrong_role": "A linked user does not have the role the link needs.",
    "wrong_password": "The current password is wrong.",  # nosec B105  # an error code's description
    "weak_password": "The new password is too weak; `fields.password` says why.",  # nosec B105  # a description
    "read_only_field": "A field that cannot be changed here was sent.",
    "cannot_deactivate_self": "Administrators cannot deactivate their own account.",
    # materials
    "subject_exists": "A subject with this name exists.",
    "not_your_student": "An unknown student, or not one of the caller's (or the author's) students.",
    "enrollment_exists": "The student already has an active enrollment in this subject (`enrollment` is its id).",
    "not_a_recipient": "The student does not receive this material.",
    "author_required": "Administrators name the teacher who authors the material.",
    "no_file": "This material has no file.",
    # scheduling
    "lesson_conflict": "The time overlaps another scheduled lesson of the teacher or the student; `conflicts` "
    "lists each date with the lesson in the way.",
    "not_enrolled": "The student is not enrolled with this teacher in this subject.",
    "unknown_student": "Unknown student, or not one the caller may schedule.",
    "unknown_teacher": "Unknown teacher.",
    "unknown_subject": "Unknown subject.",
    "invalid_duration": "A lesson ends after it starts and lasts 15 minutes to 4 hours.",
    "start_in_past": "A lesson cannot start in the past.",
    "invalid_transition": "The object's status does not allow this change (`status` is the current one, where given).",
    "cancel_too_late": "A student cancelling within the notice period (24 h) must send `accept_charge` (it is billed).",
    "lesson_not_started": "A lesson is marked completed or no-show only after it has started.",
    # assignments
    "invalid_recipients": "Some students are not actively enrolled with the teacher in the subject.",
    "assignment_closed": "The assignment is closed.",
    "past_due": "The due date has passed and the assignment does not allow late work.",
    "submission_empty": "Hand in a text or at least one file.",
    "too_many_files": "At most 5 files per hand-in.",
    "already_graded": "The submission is graded; it can no longer be changed.",
    "not_gradable": "The submission was returned for rework; wait for the next attempt.",
    "not_returnable": "The submission is already returned.",
    "score_out_of_range": "The score (or max_score) is out of range.",
    "max_score_locked": "max_score cannot change once a submission is graded.",
    "has_submissions": "Students have handed in work for this assignment; close it instead.",
    "not_allowed": "Only the object's owner (or an administrator) may do this.",
    # chat
    "message_not_found": "No such message (in this room).",
    "user_not_found": "No such user, or not one the caller may see.",
    "not_author": "Only the author changes a message.",
    "room_read_only": "The caller may read this room but not write in it.",
    "message_deleted": "A deleted message cannot be edited.",
    "client_id_reused": "This client_id was used for a message in another room.",
    "group_not_allowed": "Only teachers, tutors and administrators create group rooms.",
    "direct_with_self": "A direct room needs another user.",
    "text_required": "A message needs text (or an attachment).",
    "text_too_long": "The text is too long.",
    # invoices
    "illegal_transition": "The invoice's status does not allow this change (`status` is the current one).",
    "not_editable": "Only drafts can be edited.",
    "student_has_no_parent": "The student has no parent to bill.",
    "enrollment_mismatch": "The enrollment is not the student's.",
    "due_date_in_past": "The due date is in the past.",
    "payment_provider_unavailable": "The payment provider could not be reached; try again later.",
    "payment_in_progress": "A payment of this invoice is already being processed.",
    "payments_not_configured": "Online payment is not configured on this server.",
    "payment_check_deferred": "The payment was read from the provider moments ago (or may be ours with its id not "
    "stored yet): deliver the notification again after `Retry-After` seconds.",
    "telegram_not_configured": "Telegram is not configured on this server.",
    "invalid_unsubscribe_token": "The unsubscribe link is invalid, altered or expired.",
    "invalid_reset_token": "The password reset link is invalid, already used or expired.",
    # billing (invoice lines, billing runs)
    "has_lines": "The invoice has several lines: edit its lines instead of its amount.",
    "line_not_editable": "Lesson and credit lines follow their lessons; run billing again instead.",
    "total_not_positive": "An invoice's total must stay above zero.",
    "discount_too_large": "Discount lines exceed BILLING_MAX_DISCOUNT_PERCENT of the other lines.",
    "not_a_tutor": "Billing runs are per tutor: name one (admins), or be one.",
    "invalid_period": "The period ends before it starts or is longer than a year.",
    # health
    "not_ready": "A dependency is failing; `checks` names it.",
}

STATUS_SUMMARIES = {
    400: "Bad request.",
    401: "Not authenticated.",
    403: "Forbidden.",
    404: "Not found.",
    409: "Conflict with the current state.",
    413: "Request body too large.",
    415: "Unsupported media type.",
    429: "Too many requests.",
    500: "Server error.",
    502: "Bad gateway.",
    503: "Service unavailable.",
}
UPLOAD_CODES = {
    400: ["file_empty", "file_type_not_allowed", "file_extension_mismatch"],
    413: ["file_too_large"],
}
# Query parameters whose values are never refused (any search matches; `page` and `page_size` are parsed with
# bounds, config/pagination.py).
_UNCHECKED_QUERY_PARAMETERS = {"search"}

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error of the API. `code` is stable and machine-readable; each response lists the codes "
    "it can carry. A few codes add a field of their own (named in the code's description).",
    "properties": {
        "detail": {"type": "string", "description": "A message for people."},
        "code": {"type": "string", "description": "What went wrong, for programs."},
        "fields": {
            "type": "object",
            "description": "Input errors by field name: a list of messages, or for a nested object its own "
            "fields the same way.",
            "additionalProperties": {
                "anyOf": [
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "object", "additionalProperties": True},
                ]
            },
        },
    },
    "required": ["detail", "code"],
}


def api_errors(errors: dict[int, Iterable[str]], *, methods: Iterable[str] | None = None):
    """Declare the codes a view method (or @action) answers beyond the generic rules, by status.

    `methods` limits the declaration to some HTTP methods of a multi-method action; stack it for several. On a
    view class, or above `@api_view`, it declares for every method of the view."""

    def decorator(target):
        holder = getattr(target, "cls", target)  # @api_view's result carries its view class
        declared = list(holder.__dict__.get("_api_errors", []))
        declared.append(
            (
                {method.upper() for method in methods} if methods else None,
                {status: [str(code) for code in codes] for status, codes in errors.items()},
            )
        )
        holder._api_errors = declared
        return target

    return decorator


def _probe_users():
    """One unsaved user per role (the roles are the choices of the user model's `role` field)."""
    user_model = get_user_model()
    return [user_model(pk=0, role=role, is_active=True) for role, _label in user_model._meta.get_field("role").choices]


class _ProbeRequest:
    def __init__(self, method, user):
        self.method = method
        self.user = user
        self.auth = None


class AutoSchema(openapi.AutoSchema):
    # --- list parameters only where they are honoured --------------------------------------------------------
    def _is_list_operation(self) -> bool:
        """The operation that lists the view's queryset: the `list` action, or GET on a generic list view."""
        action = getattr(self.view, "action", None)
        if action is not None:
            return action == "list"
        return self.method == "GET" and isinstance(self.view, ListModelMixin)

    def get_filter_backends(self):
        # An @action (or a detail view) answering a list does not run the view's filter backends; the few that
        # read some query parameters declare them with extend_schema(parameters=...).
        if not self._is_list_operation():
            return []
        return getattr(self.view, "filter_backends", [])

    # --- request bodies -------------------------------------------------------------------------------------
    def map_parsers(self):
        """JSON everywhere, and `multipart/form-data` only where the body carries a file (docs/api.md: multipart is
        for uploads). Other views parse multipart too (the default parsers), but that is not part of the contract."""
        media_types = super().map_parsers()
        if self._request_takes_files():
            return media_types
        return [media_type for media_type in media_types if media_type != "multipart/form-data"] or media_types

    # --- error responses -------------------------------------------------------------------------------------
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        for parameter in operation.get("parameters", []):
            # An empty query parameter is the same as an absent one (filters, pagination, config.parsing.given_query).
            if parameter["in"] == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        errors = self._error_codes(operation)
        responses = operation["responses"]
        for status in list(responses):
            code = int(status) if str(status).isdigit() else 0
            if code >= 400 and code not in errors:
                errors[code] = []
        for status in sorted(errors):
            declared = responses.get(str(status), {})
            responses[str(status)] = self._error_response(status, errors[status], declared.get("description", ""))
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error_codes(self, operation) -> dict[int, list[str]]:
        codes: dict[int, list[str]] = defaultdict(list)

        def add(status: int, *names: str) -> None:
            for name in map(str, names):
                if name not in codes[status]:
                    codes[status].append(name)

        view = self.view
        parameters = operation.get("parameters", [])
        query = [p["name"] for p in parameters if p["in"] == "query"]
        if "requestBody" in operation:
            add(400, ErrorCode.INVALID, ErrorCode.PARSE_ERROR)
            add(413, ErrorCode.REQUEST_TOO_LARGE)
            add(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE)
            if self._request_takes_files():
                for status, names in UPLOAD_CODES.items():
                    add(status, *names)
        elif set(query) - _UNCHECKED_QUERY_PARAMETERS:
            add(400, ErrorCode.INVALID)

        if view.get_authenticators():
            permissions = view.get_permissions()
            if any(not isinstance(permission, AllowAny) for permission in permissions):
                add(401, ErrorCode.NOT_AUTHENTICATED)
            add(401, ErrorCode.AUTHENTICATION_FAILED, "invalid_auth_header")
            if self._permissions_can_deny(permissions):
                add(403, ErrorCode.PERMISSION_DENIED)

        if uritemplate.variables(self.path) or "page" in query:
            add(404, ErrorCode.NOT_FOUND)
        if view.get_throttles():
            add(429, ErrorCode.THROTTLED)

        for status, names in self._declared_errors().items():
            add(status, *names)
        return codes

    def _declared_errors(self) -> dict[int, list[str]]:
        action = getattr(self.view, "action", None) or self.method.lower()
        function = getattr(self.view, action, None)
        merged: dict[int, list[str]] = defaultdict(list)
        declared = [*type(self.view).__dict__.get("_api_errors", []), *getattr(function, "_api_errors", [])]
        for methods, errors in declared:
            if methods is None or self.method in methods:
                for status, names in errors.items():
                    merged[status].extend(names)
        return merged

    def _permissions_can_deny(self, permissions) -> bool:
        """Whether some signed-in role is refused: each permission is asked with one user of every role."""
        for permission in permissions:
            if isinstance(permission, AllowAny):
                continue
            for user in _probe_users():
                try:
                    allowed = permission.has_permission(_ProbeRequest(self.method, user), self.view)
                except Exception:  # noqa: BLE001 - a permission that cannot be probed may refuse
                    return True
                if not allowed:
                    return True
        return False

    def _request_takes_files(self) -> bool:
        serializer = self.get_request_serializer()
        if isinstance(serializer, dict):
            serializer = next(iter(serializer.values()), None)
        if isinstance(serializer, type):
            serializer = serializer()
        fields = getattr(serializer, "fields", {}) if isinstance(serializer, serializers.Serializer) else {}
        for field in fields.values():
            child = getattr(field, "child", None) or getattr(field, "child_relation", None)
            if isinstance(field, serializers.FileField) or isinstance(child, serializers.FileField):
                return True
        return False

    def _error_response(self, status: int, codes: list[str], declared_description: str) -> dict:
        component = ResolvedComponent(
            name=ERROR_COMPONENT, type=ResolvedComponent.SCHEMA, schema=ERROR_SCHEMA, object=ERROR_COMPONENT
        )
        self.registry.register_on_missing(component)
        declared_description = str(declared_description or "")
        if declared_description in ("", "No response body"):
            declared_description = STATUS_SUMMARIES.get(status, "Error.")
        lines = [declared_description, ""]
        lines += [f"- `{code}`: {CODE_DESCRIPTIONS.get(code, '')}".rstrip(": ") for code in codes]
        schema = {"allOf": [component.ref]}
        if codes:
            schema = {
                "allOf": [component.ref, {"type": "object", "properties": {"code": {"type": "string", "enum": codes}}}]
            }
        media = {"schema": schema}
        if codes:
            media["examples"] = {
                code: {"summary": code, "value": {"detail": CODE_DESCRIPTIONS.get(code, code), "code": code}}
                for code in codes
            }
        response = {"description": "\n".join(lines).strip(), "content": {"application/json": media}}
        if status == 429:
            response["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before trying again."}
            }
        if status == 401:
            response["headers"] = {
                "WWW-Authenticate": {"schema": {"type": "string"}, "description": "The authentication scheme."}
            }
        return self._shared_response(status, codes, response)

    def _shared_response(self, status: int, codes: list[str], response: dict) -> dict:
        """The response as a reusable component named after its status and codes (`Error404-not_found`): many
        operations answer the same, and the schema stays small."""
        base = "-".join([f"Error{status}", *codes])
        for suffix in itertools.count(1):
            name = base if suffix == 1 else f"{base}-{suffix}"
            existing = self.registry._components.get((name, ResolvedComponent.RESPONSE))
            if existing is None:
                component = ResolvedComponent(name=name, type=ResolvedComponent.RESPONSE, schema=response, object=name)
                self.registry.register(component)
                return component.ref
            if existing.schema == response:
                return existing.ref
        raise AssertionError("unreachable")


# --- ordering and search parameters ---------------------------------------------------------------------------
class OrderingFilterExtension(OpenApiFilterExtension):
    """`ordering` with the values the view accepts (each field, `-field` for descending; several comma-separated)."""

    target_class = "rest_framework.filters.OrderingFilter"
    match_subclasses = True

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        view = auto_schema.view
        queryset = view.get_queryset()
        allowed = getattr(self.target, "allowed_fields", None)  # config.filters.OrderingFilter's own rule
        if allowed is not None:
            fields = allowed(queryset, view)
        else:
            fields = [name for name, _label in self.target.get_valid_fields(queryset, view, {"request": view.request})]
        if not fields:
            return []
        values = [value for name in fields for value in (name, f"-{name}")]
        default = getattr(view, "ordering", None)
        default = [default] if isinstance(default, str) else list(default or [])
        description = "Sort order: one or more of the values, comma-separated; `-` sorts descending."
        if default:
            description += f" Default: `{','.join(default)}`."
        return [
            build_parameter_type(
                name=self.target.ordering_param,
                schema={"type": "array", "items": {"type": "string", "enum": values}},
                location="query",
                description=description,
                explode=False,
            )
        ]


class SearchFilterExtension(OpenApiFilterExtension):
    """`search` only where the view names fields to search, and which ones."""

    target_class = "rest_framework.filters.SearchFilter"
    match_subclasses = True

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        view = auto_schema.view
        fields = self.target.get_search_fields(view, view.request)
        if not fields:
            return []
        names = ", ".join(f"`{field.lstrip('^=@$')}`" for field in fields)
        return [
            build_parameter_type(
                name=self.target.search_param,
                schema={"type": "string"},
                location="query",
                description=f"Each word must appear (case-insensitive) in at least one of: {names}.",
            )
        ]


# --- decimals in -----------------------------------------------------------------------------------------------
class DecimalFieldExtension(OpenApiSerializerFieldExtension):
    """A decimal is written out as a string (`"12.50"`) and read from a string or a JSON number alike (DRF's
    DecimalField): the request schema says both."""

    target_class = "rest_framework.fields.DecimalField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction != "request" or schema.get("type") != "string":
            return schema
        outer = {key: schema.pop(key) for key in ("readOnly", "writeOnly", "nullable", "description") if key in schema}
        number: dict = {"type": "number"}
        if self.target.min_value is not None:
            number["minimum"] = float(self.target.min_value)
        if self.target.max_value is not None:
            number["maximum"] = float(self.target.max_value)
        return {**outer, "oneOf": [schema, number]}
