from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


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
