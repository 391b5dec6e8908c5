"""`manage.py demo --no-serve`: demo accounts of every role, firms with valid credit codes, expert
pools, campaigns and assistance cases in every state."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from campaigns.cases.models import AssistanceCase, Visit
from campaigns.models import Campaign
from enterprises.demo import FIRMS_PER_CITY
from enterprises.models import Enterprise
from enterprises.uscc import region_code_of, validate_uscc
from experts.models import Expert
from portal.demo import ACCOUNTS, DEMO_PASSWORD
from portal.models import AuditEntry, User

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo, loaded once for the module (it takes seconds): every test runs inside its own
    transaction on top of it, rolled back after the test, and the whole is rolled back at the end."""
    output = StringIO()
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("demo", "--no-serve", stdout=output)
        yield output.getvalue()
        transaction.set_rollback(True)


def test_it_creates_an_account_of_every_role(demo):
    roles = set(User.objects.filter(username__in=[a.username for a in ACCOUNTS]).values_list("role", flat=True))
    assert roles == set(User.Role.values)


def test_every_demo_account_signs_in_with_the_demo_password(demo):
    for account in ACCOUNTS:
        user = User.objects.get(username=account.username)
        assert user.check_password(DEMO_PASSWORD), account.username
        assert user.is_active


def test_demo_accounts_have_the_jurisdiction_they_promise(demo):
    for account in ACCOUNTS:
        user = User.objects.get(username=account.username)
        assert user.region_id == account.region, account.username
        user.full_clean()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff


def test_it_creates_the_demo_firms_with_valid_codes_naming_their_region(demo):
    firms = list(Enterprise.objects.select_related("region"))
    assert len(firms) == sum(FIRMS_PER_CITY.values())
    for firm in firms:
        validate_uscc(firm.uscc)
        assert region_code_of(firm.uscc) == firm.region.code, firm.uscc
        assert firm.region.level == "county" or not firm.region.children.exists(), firm.region.code
        assert firm.industry.level == "division"


def test_no_two_demo_firms_share_a_name_and_the_pending_claim_names_its_firm(demo):
    from enterprises.models import EnterpriseClaim

    names = list(Enterprise.objects.values_list("name", flat=True))
    assert len(names) == len(set(names))
    claim = EnterpriseClaim.objects.get(user__username="sme_newcomer")
    assert Enterprise.objects.filter(name=claim.enterprise.name).count() == 1


def test_the_regulators_have_an_office_phone_and_mail_for_the_firms(demo):
    regulator = User.objects.get(username="sjz_regulator")
    assert regulator.phone and "@" in regulator.email


def test_the_audit_trail_of_the_demo_cases_carries_the_storys_dates(demo):
    import datetime

    from django.utils import timezone

    # The story's cases, not the national campaigns' typed in after the fact (audited when typed in).
    case = (AssistanceCase.objects.filter(status="closed").exclude(campaign__region_id="000000")
            .order_by("opened_at").first())
    entries = AuditEntry.objects.filter(object_id=str(case.pk), content_type__model="assistancecase")
    assert entries.exists()
    assert all(entry.at < timezone.now() - datetime.timedelta(days=1) for entry in entries)
    assert min(entry.at for entry in entries).date() == timezone.localtime(case.opened_at).date()


def test_the_demo_firms_lie_in_the_demo_cities(demo):
    for city, count in FIRMS_PER_CITY.items():
        assert Enterprise.objects.filter(region__code__startswith=city[:4]).count() == count, city


def test_every_demo_sme_account_naming_a_firm_is_its_contact(demo):
    sme_accounts = [account for account in ACCOUNTS if account.role == User.Role.SME]
    assert any(account.organisation for account in sme_accounts)
    for account in sme_accounts:
        firms = [firm.name for firm in User.objects.get(username=account.username).enterprises.all()]
        # An account without a firm of its own (a newcomer whose claim awaits confirmation) has none.
        assert firms == ([account.organisation] if account.organisation else []), account.username


def test_it_prints_the_accounts_and_the_password(demo):
    assert DEMO_PASSWORD in demo
    for account in ACCOUNTS:
        assert account.username in demo


def counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (
        User, Enterprise, Enterprise.users.through, Expert, Campaign, AssistanceCase, Visit, AuditEntry))


def test_running_it_twice_creates_nothing_new(demo):
    before = counts()
    output = StringIO()
    call_command("demo", "--no-serve", stdout=output)
    assert counts() == before
    assert "0 new enterprises" in output.getvalue() and "0 new assistance cases" in output.getvalue()


def test_running_it_again_keeps_a_changed_password(demo):
    user = User.objects.get(username="sjz_regulator")
    user.set_password("changed by its owner")
    user.save()
    call_command("seed_demo", stdout=StringIO())
    user.refresh_from_db()
    assert user.check_password("changed by its owner")


# --- Expert pools, campaigns and cases ------------------------------------------------------


def test_the_demo_campaigns_run_today_over_their_jurisdictions(demo):
    from django.utils import timezone

    campaigns = {campaign.region_id: campaign for campaign in Campaign.objects.exclude(region_id="000000")}
    assert set(campaigns) == {"130100", "130000", "441900", "340000"}
    for campaign in campaigns.values():
        assert campaign.is_running_on(timezone.localdate()), campaign.name
        assert campaign.organiser.endswith("市场监督管理局")
    assert campaigns["130100"].service_areas.count() == 10


def test_the_pools_hold_about_sixty_experts_of_every_employer_kind(demo):
    from portal.models import Specialty

    experts = Expert.objects.all()
    assert 55 <= experts.count() <= 70
    assert set(experts.values_list("employer_kind", flat=True)) == set(Expert.EmployerKind.values)
    assert {expert.capacity for expert in experts} <= {2, 3, 4, 5}
    assert experts.filter(is_active=False).exists()
    shijiazhuang = Specialty.objects.filter(experts__region_id="130100").distinct()
    assert shijiazhuang.count() == Specialty.objects.count() == 15
    served_levels = set(Expert.regions_served.through.objects.values_list("region__level", flat=True))
    assert served_levels == {"province", "city", "county"}


def test_every_demo_expert_account_signs_in_as_an_expert_record_with_cases(demo):
    from campaigns.cases.selectors import cases_visible_to

    for account in [a for a in ACCOUNTS if a.role == User.Role.EXPERT]:
        user = User.objects.get(username=account.username)
        assert user.expert_profile.name == account.full_name
        assert user.expert_profile.employer == account.organisation
        assert cases_visible_to(user).exists(), account.username


def test_the_demo_has_cases_in_every_status_and_closed_ones_both_resolved_and_not(demo):
    cases = AssistanceCase.objects.all()
    assert 35 <= cases.exclude(campaign__region_id="000000").count() <= 50
    assert set(cases.values_list("status", flat=True)) == set(AssistanceCase.Status.values)
    assert set(cases.filter(status="closed").values_list("resolution", flat=True)) == {"resolved", "unresolved"}
    assert set(cases.values_list("campaign__region_id", flat=True)) == {"130100", "130000", "441900", "340000",
                                                                         "000000"}


def test_closed_cases_report_outcomes_among_them_a_lab_saving_450000_yuan(demo):
    from decimal import Decimal

    lab = AssistanceCase.objects.get(lab_set_up=True)
    assert (lab.status, lab.resolution, lab.money_saved) == ("closed", "resolved", Decimal("450000"))
    assert lab.assignments.filter(expert__user__username="expert_wang").exists()
    assert AssistanceCase.objects.filter(excellence_model_adopted=True, status="closed").count() >= 2
    assert AssistanceCase.objects.filter(certificate_obtained=True).exists()
    assert AssistanceCase.objects.filter(standard_drafted=True).exists()


def test_most_closed_cases_are_rated_and_the_demo_sme_account_has_one_awaiting_its_rating(demo):
    from campaigns.cases.selectors import cases_awaiting_rating

    # The national campaigns' cases were entered from paper years later: nobody was asked to rate them.
    closed = AssistanceCase.objects.filter(status="closed").exclude(campaign__region_id="000000")
    assert closed.filter(rating__isnull=False).count() >= 0.75 * closed.count()
    assert set(closed.filter(rating__isnull=False).values_list("rating__score", flat=True)) >= {5, 4, 3}
    sme = User.objects.get(username="sme_hengtai")
    assert cases_awaiting_rating(sme).count() == 1


def test_some_follow_ups_are_overdue_and_some_cases_stale_for_the_city_regulator(demo):
    from campaigns.cases.selectors import overdue_follow_ups, stale_cases

    regulator = User.objects.get(username="sjz_regulator")
    assert overdue_follow_ups(regulator).count() >= 2
    assert stale_cases(regulator).count() >= 2
    assert stale_cases(regulator).filter(last_visit_on__isnull=True).exists()  # opened long ago, never visited
    administrator = User.objects.get(username="admin")
    assert overdue_follow_ups(administrator).count() > overdue_follow_ups(regulator).count()


def test_one_expert_carries_a_case_past_capacity_with_the_reason(demo):
    from campaigns.cases.models import CaseAssignment
    from experts.selectors import with_record

    [assignment] = CaseAssignment.objects.filter(over_capacity=True)
    assert assignment.override_reason and assignment.active
    expert = with_record(Expert.objects.filter(pk=assignment.expert_id)).get()
    assert expert.load > expert.capacity
    assert CaseAssignment.objects.filter(active=False, released_at__isnull=False).exists()


def test_visits_lie_in_the_past_inside_their_campaign_and_after_the_case_opened(demo):
    from django.utils import timezone

    visits = Visit.objects.select_related("case__campaign")
    assert visits.count() >= 60
    assert set(visits.values_list("mode", flat=True)) == set(Visit.Mode.values)
    for visit in visits:
        case = visit.case
        assert case.campaign.starts_on <= case.opened_at.date() <= visit.visited_on < timezone.localdate(), case
        if case.closed_at:
            assert visit.visited_on <= timezone.localtime(case.closed_at).date(), case


def test_case_history_runs_in_order_from_opening_to_closing(demo):
    from django.utils import timezone

    from campaigns.cases.models import CaseRating

    ratings = {rating.case_id: rating for rating in CaseRating.objects.all()}
    for case in AssistanceCase.objects.prefetch_related("events", "assignments"):
        stamps = [event.at for event in case.events.all()]
        assert stamps == sorted(stamps) and stamps[0] == case.opened_at, case
        assert [event.to_status for event in case.events.all()][-1] == case.status, case
        assert all(assignment.assigned_at >= case.opened_at for assignment in case.assignments.all()), case
        if case.status == "closed":
            assert stamps[-1] == case.closed_at, case
        if case.pk in ratings:
            assert case.closed_at < ratings[case.pk].rated_at < timezone.now(), case


def test_the_services_wrote_the_audit_trail_of_experts_cases_and_visits(demo):
    for model in ("expert", "assistancecase", "visit"):
        assert AuditEntry.objects.filter(content_type__model=model, action="create").exists(), model
    assert AuditEntry.objects.filter(action="assign").exists()
    assert AuditEntry.objects.filter(action="transition", content_type__model="assistancecase").exists()


def test_the_demo_dashboards_have_their_figures_once_the_seed_ends(db):

    from campaigns.kpis.models import KpiSnapshot
    from campaigns.models import Campaign
    from portal.models import OutboxEntry

    call_command("seed_demo", stdout=StringIO())
    assert not OutboxEntry.objects.exists()
    for campaign in Campaign.objects.all():
        totals = KpiSnapshot.objects.get(campaign=campaign, region=campaign.region, period="", breakdown="", key="")
        assert totals.figures["cases"] == campaign.cases.count()


def test_the_national_campaigns_were_entered_after_the_fact_with_their_headline_figures(demo):
    from campaigns.kpis.models import KpiSnapshot

    qms = Campaign.objects.get(region_id="000000", name="小微企业质量管理体系认证提升行动")
    figures = KpiSnapshot.objects.get(campaign=qms, region_id="000000", period="", breakdown="").figures
    assert (figures["firms_assisted"], figures["surveys"]) == (48, 48)
    assert (figures["awareness_up_share"], figures["performance_up_share"]) == (89.58, 97.92)
    provinces = KpiSnapshot.objects.filter(campaign=qms, level="province", period="", breakdown="",
                                           figures__firms_assisted__gt=0)
    assert provinces.count() >= 2  # drilled down by province
    assert all(case.entered_later for case in qms.cases.select_related("campaign")[:5])
    assert User.objects.get(username="national_supervisor").region_id == "000000"


def test_demo_accounts_have_unread_notifications_of_several_kinds(demo):
    from portal.notifications.models import Notification

    def kinds(username: str) -> set[str]:
        return set(Notification.objects.filter(recipient__username=username, read_at__isnull=True)
                   .values_list("kind", flat=True))

    assert {"need_declined", "case_opened", "visit_logged", "case_closed"} <= kinds("sme_hengtai")
    assert {"follow_up_overdue", "case_stale"} & kinds("sjz_regulator")
    assert "expert_assigned" in kinds("expert_wang")
    # Jurisdiction: nobody in Tangshan is told of Shijiazhuang's cases.
    assert not Notification.objects.filter(recipient__username="ts_regulator", body__contains="石家庄").exists()


def test_running_it_twice_adds_no_notification(demo):
    from portal.notifications.models import Notification

    before = Notification.objects.count()
    call_command("demo", "--no-serve", stdout=StringIO())
    assert Notification.objects.count() == before
