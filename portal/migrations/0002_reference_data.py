"""Fill a new database with the reference data kept in portal/reference/."""

from django.db import migrations


def load(apps, schema_editor):
    from portal import refdata

    refdata.load_all(
        apps.get_model("portal", "Region"),
        apps.get_model("portal", "Industry"),
        apps.get_model("portal", "ServiceArea"),
        apps.get_model("portal", "Specialty"),
    )


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
