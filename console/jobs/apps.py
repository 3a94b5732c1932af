from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class Config(AppConfig):
    name = "console.jobs"
    label = "jobs"

    def ready(self):
        # Each feature app registers its job kinds in its own `job_kinds.py`.
        autodiscover_modules("job_kinds")
