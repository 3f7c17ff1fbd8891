"""Small pieces every app's API views share."""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation


class DownloadNegotiation(DefaultContentNegotiation):
    """Downloads (ZIP, CSV) bypass the renderers; errors are always JSON, whatever `Accept` says."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def validated(serializer_class, data) -> dict:
    """Validate `data` with a serializer class; a 400 with the field errors when it does not fit."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
