from django.conf import settings
from django.db import migrations


def create_environment_engine(apps, schema_editor):
    """The engine DOCKER_HOST names exists from the first start, so a single-engine setup works unchanged."""
    Engine = apps.get_model("engines", "Engine")
    Engine.objects.get_or_create(
        name=settings.ENGINE_NAME,
        defaults={"from_environment": True, "description": "The engine DOCKER_HOST names"},
    )


class Migration(migrations.Migration):
    dependencies = [("engines", "0001_initial")]
    operations = [migrations.RunPython(create_environment_engine, migrations.RunPython.noop)]
