from rest_framework.throttling import SimpleRateThrottle


class ScopedUserThrottle(SimpleRateThrottle):
    """Rates per user and per anonymous client for a view's `throttle_scope` ("search", "generation"…).

    The rates are settings: REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["<scope>_user" / "<scope>_anon"].
    """

    def allow_request(self, request, view) -> bool:
        scope = getattr(view, "throttle_scope", None)
        if not scope:
            return True
        who = "user" if request.user and request.user.is_authenticated else "anon"
        self.scope = f"{scope}_{who}"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_rate(self):
        if not getattr(self, "scope", None):
            return None
        return self.THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str:
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        return f"throttle_{self.scope}_{ident}"
