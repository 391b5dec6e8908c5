"""API rate limits read from settings at each request (API_THROTTLE_RATES), so they can be changed
in tests and by the environment; a rate of None switches that limit off."""

from django.conf import settings
from rest_framework import throttling


class SettingsRateMixin:
    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)


class UserRateThrottle(SettingsRateMixin, throttling.UserRateThrottle):
    pass


class AnonRateThrottle(SettingsRateMixin, throttling.AnonRateThrottle):
    pass
