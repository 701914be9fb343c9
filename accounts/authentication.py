"""Token authentication: knox's tokens, one query per request.

knox's `TokenAuthentication` loads, on every request, every other token of the user to delete the expired ones
(a second query per request, whose cost grows with the user's sessions). Expired tokens are deleted by the hourly
`accounts.tasks.tokens_prune_expired_job` instead; a presented token is still refused once expired (and deleted
then, as knox does). The token is found by its digest, the table's primary key, with its user in the same query
(knox instead filters on the token's first characters and compares digests in Python; an index lookup by a
SHA-512 digest leaks nothing a client could steer, since it cannot choose the digest's bits).
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.signals import token_expired
from rest_framework import exceptions


class TokenAuthentication(auth.TokenAuthentication):
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
        return self.validate_user(auth_token)


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of knox's class (drf-spectacular matches the exact class)."""

    target_class = "accounts.authentication.TokenAuthentication"
