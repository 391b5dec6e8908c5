"""Fewer indexes for an import to keep up to date: the registry's foreign keys lose their own
indexes (the county-level indexes lead with region_id; industry keeps a plain B-tree), and on
PostgreSQL the credit code loses the LIKE index Django adds beside a unique text column: a code
is looked up whole, and found by a fragment through the search indexes."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def uscc_like_indexes(schema_editor) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'enterprises_enterprise' "
                       "AND indexdef LIKE %s", ["%(uscc varchar_pattern_ops)%"])
        return [name for (name,) in cursor.fetchall()]


def drop_uscc_like(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in uscc_like_indexes(schema_editor):
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def create_uscc_like(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql" and not uscc_like_indexes(schema_editor):
        schema_editor.execute("CREATE INDEX enterprises_enterprise_uscc_b6a5c3f2_like "
                              "ON enterprises_enterprise (uscc varchar_pattern_ops)")


class Migration(migrations.Migration):

    dependencies = [
        ('enterprises', '0010_enterprise_certification_schemes'),
        ('portal', '0007_national_region'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='enterprise',
            name='industry',
            field=models.ForeignKey(db_index=False, limit_choices_to={'level': 'division'},
                                    on_delete=django.db.models.deletion.PROTECT, related_name='enterprises',
                                    to='portal.industry', verbose_name='industry'),
        ),
        migrations.AlterField(
            model_name='enterprise',
            name='region',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                    related_name='enterprises', to='portal.region', verbose_name='region'),
        ),
        migrations.AddIndex(
            model_name='enterprise',
            index=models.Index(fields=['industry'], name='enterprise_industry_idx'),
        ),
        migrations.RunPython(drop_uscc_like, create_uscc_like),
    ]
