from django.apps import AppConfig
from django.core import checks

from . import checks as ops_checks


class OpsConfig(AppConfig):
    name = "tipline.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        checks.register(ops_checks.retention_themes)
