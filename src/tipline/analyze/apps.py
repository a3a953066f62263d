from django.apps import AppConfig


class AnalyzeConfig(AppConfig):
    name = "tipline.analyze"
    label = "analyze"
    verbose_name = "Analyze"

    def ready(self) -> None:
        from tipline.common import pipeline

        from . import selectors, services

        pipeline.register_prepared_step("analyze", services.reports_scan, services.reports_analyze)
        pipeline.register_facts(selectors.report_facts)
