from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "tipline.ops"
    label = "ops"
    verbose_name = "Operations"
