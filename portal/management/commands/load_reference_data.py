from django.core.management.base import BaseCommand
from django.db import transaction

from portal import refdata
from portal.models import Industry, Region, ServiceArea, Specialty


class Command(BaseCommand):
    help = "Load or refresh regions, industries, service areas and specialties from portal/reference/."

    def handle(self, *args, **options):
        with transaction.atomic():
            counts = refdata.load_all(Region, Industry, ServiceArea, Specialty)
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count}")
