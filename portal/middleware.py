import logging

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.views.defaults import page_not_found, server_error

logger = logging.getLogger("django.request")


class PortalLocaleMiddleware(LocaleMiddleware):
    """Simplified Chinese unless the user picked another language in the switcher.

    The browser's Accept-Language is ignored on purpose: the portal is a Chinese government
    service, and an English-language browser on a bureau PC should still show Chinese.
    """

    def process_request(self, request):
        supported = {code for code, _ in settings.LANGUAGES}
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in supported:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class PortalErrorPagesMiddleware:
    """With DJANGO_DEBUG=1 (the embedded default, and the demo), Django answers a 404 or an error
    with its technical page: in English, listing the URL patterns and the code. People using the
    portal see the portal's own 404 and 500 pages instead, whatever DEBUG says; a developer who
    wants the technical pages sets DJANGO_DEBUG_ERROR_PAGES=1. Without DEBUG Django already renders
    templates/404.html and templates/500.html, and this middleware stands aside.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def active(self) -> bool:
        return settings.DEBUG and not settings.DEBUG_ERROR_PAGES

    def __call__(self, request):
        response = self.get_response(request)
        # No URL matched: the resolver's 404 never reaches process_exception.
        if self.active() and response.status_code == 404 and getattr(request, "resolver_match", None) is None:
            return page_not_found(request, Http404())
        return response

    def process_exception(self, request, exception):
        if not self.active():
            return None
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        if isinstance(exception, PermissionDenied | SuspiciousOperation | BadRequest):
            return None  # Django answers these with the portal's 403 and 400 pages already.
        logger.error("Internal Server Error: %s", request.path, exc_info=exception,
                     extra={"status_code": 500, "request": request})
        return server_error(request)
