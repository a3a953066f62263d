from django.apps import AppConfig


class HarmonizeConfig(AppConfig):
    name = "tipline.harmonize"
    label = "harmonize"
    verbose_name = "Harmonize"

    def ready(self) -> None:
        from tipline.common import pipeline

        from . import selectors, services

        pipeline.register_prepared_step(
            "harmonize", services.reports_prepare, services.reports_harmonize
        )
        pipeline.register_facts(selectors.report_facts)
