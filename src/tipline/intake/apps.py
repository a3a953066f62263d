from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "tipline.intake"
    label = "intake"
    verbose_name = "Intake"

    def ready(self) -> None:
        from tipline.common import pipeline

        from . import tasks

        pipeline.set_enqueue(tasks.enqueue_reports)
