"""Orient: routing to offices, partner hotlines and hosts; delivery; takedown follow-up."""

from django.apps import AppConfig


class OrientConfig(AppConfig):
    name = "tipline.orient"
    label = "orient"
    verbose_name = "Orient"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from tipline.analyze.models import HostingLookup
        from tipline.common import pipeline

        from . import selectors, services, tasks

        pipeline.register_step("orient", services.reports_orient)
        pipeline.register_facts(selectors.report_routing_facts)
        post_save.connect(
            tasks.on_hosting_lookup, sender=HostingLookup, dispatch_uid="orient-hosting"
        )
