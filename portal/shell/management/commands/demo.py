from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, load demo data, print the demo accounts and start the development server."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="Prepare the database and stop.")

    def handle(self, *args, addrport, no_serve, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo", stdout=self.stdout)
        if not no_serve:
            self.stdout.write(f"\nPortal: http://{addrport}/  (Ctrl-C stops it)\n")
            call_command("runserver", addrport, use_reloader=False)
