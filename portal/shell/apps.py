from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShellConfig(AppConfig):
    """The site shell: home pages, navigation, the URL root and the demo.

    It is the one part of the portal that builds on every app (portal, enterprises, experts,
    campaigns); nothing imports it but Django, through the settings.
    """

    name = "portal.shell"
    label = "shell"
    verbose_name = _("Site")
