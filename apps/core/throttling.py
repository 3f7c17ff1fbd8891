from rest_framework.throttling import BaseThrottle

from apps.core.ratelimit import RateLimited, rate_limit_hit


class ScopedRateThrottle(BaseThrottle):
    """The API's side of the one rate limiter (apps.core.ratelimit): a view's `throttle_scope`
    ("search", "generate"…) draws on the same allowance as the pages of that scope."""

    def allow_request(self, request, view) -> bool:
        scope = getattr(view, "throttle_scope", None)
        if scope:
            try:
                rate_limit_hit(scope=scope, request=request)
            except RateLimited as exc:
                self.retry_after = exc.retry_after
                self.message = str(exc)
                return False
        return True

    def wait(self):
        return getattr(self, "retry_after", None)
