"""Each firm's certification schemes in a column of its own (Certification.save keeps it), filled
from the certifications already held, and on PostgreSQL a partial GIN index over it: the
certification filter finds and counts a scheme's holders in a jurisdiction from the index instead
of a semi-join to every certificate of the scheme. Only certified firms are in the index, so
importing firms costs it nothing."""

from django.db import migrations, models

INDEX = ("CREATE INDEX IF NOT EXISTS enterprise_cert_schemes_idx ON enterprises_enterprise "
         "USING gin (string_to_array(certification_schemes, ' ')) WHERE certification_schemes <> ''")


def fill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "UPDATE enterprises_enterprise e SET certification_schemes = held.schemes FROM "
            "(SELECT enterprise_id, string_agg(DISTINCT scheme, ' ' ORDER BY scheme) AS schemes "
            "FROM enterprises_certification GROUP BY enterprise_id) held WHERE e.id = held.enterprise_id")
        schema_editor.execute(INDEX)
        return
    Enterprise = apps.get_model("enterprises", "Enterprise")
    Certification = apps.get_model("enterprises", "Certification")
    held: dict[int, set[str]] = {}
    for enterprise_id, scheme in Certification.objects.values_list("enterprise_id", "scheme"):
        held.setdefault(enterprise_id, set()).add(scheme)
    for enterprise_id, schemes in held.items():
        Enterprise.objects.filter(pk=enterprise_id).update(certification_schemes=" ".join(sorted(schemes)))


def unfill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS enterprise_cert_schemes_idx")


class Migration(migrations.Migration):

    dependencies = [
        ('enterprises', '0009_key_designation'),
    ]

    operations = [
        migrations.AddField(
            model_name='enterprise',
            name='certification_schemes',
            field=models.CharField(blank=True, default='', editable=False, max_length=200,
                                   verbose_name='certification schemes'),
        ),
        migrations.RunPython(fill, unfill),
    ]
