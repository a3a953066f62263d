from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "tipline.common"
    label = "common"
    verbose_name = "Common"
