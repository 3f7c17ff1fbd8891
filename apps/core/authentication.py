from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

from apps.core.tokens import api_token_get


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer mrg_…` with a token from the user's "API tokens" page."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the header as `Authorization: Bearer <token>`.")
        token = api_token_get(header[1])
        if token is None:
            raise exceptions.AuthenticationFailed("This token is unknown, expired or revoked.")
        if token.read_only and request.method not in SAFE_METHODS:
            raise exceptions.PermissionDenied("This token is read-only; it cannot change anything.")
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal token from /accounts/tokens/",
        }


class SessionOnly(BasePermission):
    """Tokens are listed, created and revoked from a logged-in session, never with a token: a leaked
    token must not be able to see its siblings, mint copies of itself or revoke its owner's others."""

    message = "API tokens are managed while logged in (session), not with a token."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated) and not isinstance(
            request.successful_authenticator, BearerTokenAuthentication
        )
