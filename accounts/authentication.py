"""Token authentication: knox's tokens, one query per request, read from `Authorization: Bearer <token>`.

The header. `Bearer` (RFC 6750) is canonical: it is what HTTP clients send first and what Swagger UI's http-bearer
scheme sends. `Token` (knox's and DRF's word) keeps working for existing clients. The scheme word is
case-insensitive. No header at all is anonymous (DRF then answers 401 `not_authenticated` where a user is
needed); any other header is ours to judge, so a header with another scheme (`Basic …`, `JWT …`) or malformed
(no key, extra parts, non-ASCII) is a 401 `invalid_auth_header` saying what to send, rather than being taken for
anonymous (which told the client "credentials were not provided" when it had sent some). Every 401 carries
`WWW-Authenticate: Bearer realm="api"`.

The lookup. knox's `TokenAuthentication` loads, on every request, every other token of the user to delete the
expired ones (a second query per request, whose cost grows with the user's sessions). Expired tokens are deleted
by the hourly `accounts.tasks.tokens_prune_expired_job` instead; a presented token is still refused once expired
(and deleted then, as knox does). The token is found by its digest, the table's primary key, with its user in the
same query (knox instead filters on the token's first characters and compares digests in Python; an index lookup
by a SHA-512 digest leaks nothing a client could steer, since it cannot choose the digest's bits).
"""

from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox import auth
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.signals import token_expired
from rest_framework import exceptions

from config.exceptions import ErrorCode

# Accepted scheme words, lower-cased: the canonical one first.
SCHEMES = ("bearer", "token")
WWW_AUTHENTICATE = 'Bearer realm="api"'
EXPECTED = "Send 'Authorization: Bearer <token>'."


class InvalidAuthHeader(exceptions.AuthenticationFailed):
    """An Authorization header we cannot read (wrong scheme, malformed): 401 `invalid_auth_header`."""

    default_code = ErrorCode.INVALID_AUTH_HEADER.value


def _invalid_header(problem: str) -> InvalidAuthHeader:
    return InvalidAuthHeader(f"{problem} {EXPECTED}")


class TokenAuthentication(auth.TokenAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION")
        if header is None:
            return None
        if not header.isascii():
            raise _invalid_header("The Authorization header may hold ASCII characters only.")
        parts = header.split()
        if not parts:
            raise _invalid_header("The Authorization header is empty.")
        if parts[0].lower() not in SCHEMES:
            raise _invalid_header("Unsupported authorization scheme.")
        if len(parts) == 1:
            raise _invalid_header("No token after the scheme.")
        if len(parts) > 2:
            raise _invalid_header("The token may not contain spaces.")
        return self.authenticate_credentials(parts[1].encode("ascii"))

    def authenticate_header(self, request):
        # DRF puts this in the WWW-Authenticate header of its 401s (and answers 403 instead when it is empty).
        return WWW_AUTHENTICATE

    def authenticate_credentials(self, token: bytes):
        invalid = exceptions.AuthenticationFailed(_("Invalid token."))
        try:
            digest = hash_token(token.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise invalid from None
        model = get_token_model()
        try:
            auth_token = model.objects.select_related("user").get(digest=digest)
        except model.DoesNotExist:
            raise invalid from None
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            token_expired.send(sender=type(self), username=auth_token.user.get_username(), source="auth_token")
            raise invalid
        user, token = self.validate_user(auth_token)
        if user.language:
            # The user's own language choice wins over Accept-Language for the rest of this request.
            translation.activate(user.language)
        return user, token


class TokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme: HTTP bearer, so Swagger UI's "Authorize" takes the bare token as users paste
    it and sends `Authorization: Bearer <token>`."""

    target_class = "accounts.authentication.TokenAuthentication"
    name = "knoxApiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "The token from `POST /api/auth/login/`, sent as `Authorization: Bearer <token>` "
                "(`Authorization: Token <token>` is accepted too; the scheme word is case-insensitive). "
                "Paste the bare token here."
            ),
        }
