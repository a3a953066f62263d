from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "tipline.stats"
    label = "stats"
    verbose_name = "Statistics"
