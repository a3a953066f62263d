from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ConsoleConfig(AppConfig):
    name = "tipline.console"
    label = "console"
    verbose_name = "Console"
    default = True


class StaffAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the site that requires two-factor like the console."""

    default = False
    default_site = "tipline.console.admin_site.StaffAdminSite"
