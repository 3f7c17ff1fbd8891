from django.core.wsgi import get_wsgi_application

from mirage_site.bootstrap import prepare

prepare()
application = get_wsgi_application()
