from django.apps import AppConfig


class CrossrefConfig(AppConfig):
    name = "tipline.crossref"
    label = "crossref"
    verbose_name = "Cross-reference"

    def ready(self) -> None:
        from tipline.common import pipeline

        from . import services

        pipeline.register_step("crossref", services.reports_crossref)
