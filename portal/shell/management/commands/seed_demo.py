from django.core.management.base import BaseCommand
from django.db import transaction

from campaigns.cases.demo import seed_cases
from campaigns.demo import seed_campaigns, seed_national_campaigns, seed_relative_targets
from campaigns.training.demo import seed_training
from enterprises.demo import seed_enterprises, seed_needs_and_surveys
from enterprises.designations.demo import seed_key_designations
from experts.demo import seed_experts
from portal import outbox
from portal.demo import DEMO_PASSWORD, seed_accounts
from portal.shell.demo_notifications import seed_notifications


class Command(BaseCommand):
    help = "Fill the portal with demo accounts and data (safe to run again: adds nothing twice)."

    def handle(self, *args, **options):
        # One transaction: all or nothing; the figures its writes noted are counted once, after it.
        # Counted here rather than in the background: the command may end before a thread would.
        with outbox.drained_by_caller():
            with transaction.atomic():
                users = seed_accounts()
                firms = seed_enterprises()
                needs = seed_needs_and_surveys()
                experts = seed_experts()
                cases = seed_cases()
                seed_key_designations()
                campaigns = seed_campaigns()
                sessions = seed_training(campaigns)
                national = seed_national_campaigns(
                    next(user for user in users if user.username == "national_regulator"))
                seed_relative_targets(campaigns, national)
            outbox.drain_all(seconds=600)
            # After the figures, which the weekly pace check reads.
            notices = seed_notifications()
            outbox.drain_all(seconds=600)
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready: {firms} new enterprises, {needs} new quality needs, {experts} new experts, "
            f"{cases} new assistance cases, {sessions} new training sessions, {notices} new reminders."))
        self.stdout.write(f"\nDemo accounts (password for all: {DEMO_PASSWORD})")
        for user in users:
            where = user.region.full_name() if user.region else ""
            self.stdout.write(f"  {user.username:<20} {user.get_role_display():<12} {user.full_name} {where}")
