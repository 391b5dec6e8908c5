"""The registry's derived columns (region levels, search text, open-needs flag) and the indexes
behind each jurisdiction level and sort; existing firms get their values."""

from django.conf import settings
from django.db import migrations, models


def fill_derived_columns(apps, schema_editor):
    """Existing firms get their derived columns as Enterprise.derive() computes them."""
    from enterprises.models import region_path_names
    from enterprises.search import pairs, search_text

    Enterprise = apps.get_model("enterprises", "Enterprise")
    NeedRequest = apps.get_model("enterprises", "NeedRequest")
    Region = apps.get_model("portal", "Region")
    names = dict(Region.objects.values_list("code", "name"))
    open_firms = set(NeedRequest.objects.filter(status__in=["submitted", "triaged", "matched", "in_progress"])
                     .values_list("enterprise_id", flat=True))
    firms = Enterprise.objects.order_by("pk")
    last = 0
    while batch := list(firms.filter(pk__gt=last)[:2000]):
        for firm in batch:
            firm.province_code, firm.city_code = firm.region_id[:2], firm.region_id[:4]
            firm.search_text = search_text(uscc=firm.uscc, name=firm.name, address=firm.address,
                                           contact_name=firm.contact_name, contact_phone=firm.contact_phone,
                                           region_names=region_path_names(firm.region_id, names))
            firm.search_pairs = pairs(firm.search_text)
            firm.has_open_needs = firm.pk in open_firms
        Enterprise.objects.bulk_update(batch, ["province_code", "city_code", "search_text", "search_pairs",
                                               "has_open_needs"])
        last = batch[-1].pk



class Migration(migrations.Migration):

    dependencies = [
        ('enterprises', '0006_need_entered_at'),
        ('portal', '0005_idempotency_keys'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='enterprise',
            name='city_code',
            field=models.CharField(default='', editable=False, max_length=4, verbose_name='city code'),
        ),
        migrations.AddField(
            model_name='enterprise',
            name='has_open_needs',
            field=models.BooleanField(default=False, editable=False, verbose_name='has open needs'),
        ),
        migrations.AddField(
            model_name='enterprise',
            name='province_code',
            field=models.CharField(default='', editable=False, max_length=2, verbose_name='province code'),
        ),
        migrations.AddField(
            model_name='enterprise',
            name='search_text',
            field=models.TextField(default='', editable=False, verbose_name='search text'),
        ),
        migrations.AddField(
            model_name='enterprise',
            name='search_pairs',
            field=models.TextField(default='', editable=False, verbose_name="search text's character pairs"),
        ),
        migrations.RunPython(fill_derived_columns, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='enterprise',
            index=models.Index(condition=models.Q(('has_open_needs', True)), fields=['has_open_needs'], name='enterprise_open_needs_idx'),
        ),
        migrations.AddIndex(
            model_name='enterprise',
            index=models.Index(fields=['name', 'id'], name='enterprise_all_name_idx'),
        ),
        migrations.AddIndex(
            model_name='enterprise',
            index=models.Index(fields=['created_at', 'id'], name='enterprise_all_created_idx'),
        ),
        migrations.AddIndex(
            model_name='enterprise',
            index=models.Index(fields=['province_code', 'name', 'id'], name='enterprise_prov_name_idx'),
        ),
        migrations.AddIndex(
            model_name='enterprise',
            index=models.Index(fields=['province_code', 'created_at', 'id'], name='enterprise_prov_created_idx'),
        ),
        migrations.AddIndex(
            model_name='enterprise',
            index=models.Index(fields=['province_code', 'city_code', 'name', 'id'], name='enterprise_city_name_idx'),
        ),
        migrations.AddIndex(
            model_name='enterprise',
            index=models.Index(fields=['province_code', 'city_code', 'created_at', 'id'], name='enterprise_city_created_idx'),
        ),
        migrations.AddIndex(
            model_name='enterprise',
            index=models.Index(fields=['region', 'name', 'id'], name='enterprise_county_name_idx'),
        ),
        migrations.AddIndex(
            model_name='enterprise',
            index=models.Index(fields=['region', 'created_at', 'id'], name='enterprise_county_created_idx'),
        ),
        migrations.AddIndex(
            model_name='enterprise',
            index=models.Index(fields=['province_code', 'region', 'name', 'id'], name='enterprise_prov_region_idx'),
        ),
        migrations.AddIndex(
            model_name='enterprise',
            index=models.Index(fields=['province_code', 'city_code', 'region', 'name', 'id'], name='enterprise_city_region_idx'),
        ),
    ]

