from django.apps import AppConfig


class OrientConfig(AppConfig):
    name = "tipline.orient"
    label = "orient"
    verbose_name = "Orient"

    def ready(self) -> None:
        from tipline.common import pipeline

        from . import services

        pipeline.register_step("orient", services.reports_orient)
