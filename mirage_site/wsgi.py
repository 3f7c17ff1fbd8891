import logging

from django.core.wsgi import get_wsgi_application

from mirage_site.bootstrap import prepare

prepare()
application = get_wsgi_application()


def _warm_query_encoders() -> None:
    """Each web process loads its query encoders as it starts, not on its first search."""
    from apps.corpus.spaces import query_encoders_warm

    for name, reason in query_encoders_warm().items():
        if reason:
            logging.getLogger("mirage").info("The %s query encoder is not available here: %s", name, reason)


_warm_query_encoders()
