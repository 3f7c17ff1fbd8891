from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from apps.core.tokens import api_token_user


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer mrg_…` with a token from the user's "API tokens" page."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the header as `Authorization: Bearer <token>`.")
        user = api_token_user(header[1])
        if user is None:
            raise exceptions.AuthenticationFailed("This token is unknown or has been revoked.")
        return user, header[1]

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
