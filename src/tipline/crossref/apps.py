from django.apps import AppConfig


class CrossrefConfig(AppConfig):
    name = "tipline.crossref"
    label = "crossref"
    verbose_name = "Cross-reference"

    def ready(self) -> None:
        from tipline.common import pipeline

        from . import selectors, services

        pipeline.register_prepared_step(
            "crossref", services.reports_crossref_prepare, services.reports_crossref
        )
        pipeline.register_facts(selectors.report_facts)
