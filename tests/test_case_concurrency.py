"""Two people acting on one case at the same moment, on real PostgreSQL connections.

Each thread has its own database connection, so the row locks and version checks in
campaigns/cases/services.py are what decide, not the test's ordering.
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from campaigns.cases import services
from campaigns.cases.models import AssistanceCase, CaseAssignment
from portal import refdata
from portal.models import Industry, Region, ServiceArea, Specialty
from tests.factories import CampaignFactory, EnterpriseFactory, ExpertFactory, RegulatorFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*calls):
    """Run the calls in threads released at once; return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as error:  # the outcome under test
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.fixture
def people(needs_postgres, transactional_db):
    # A transactional test empties every table when it ends, reference data included.
    if not Region.objects.exists():
        refdata.load_all(Region, Industry, ServiceArea, Specialty)
    bob, bianca = RegulatorFactory(username="bob"), RegulatorFactory(username="bianca")
    case = services.case_open(user=bob, campaign=CampaignFactory(), enterprise=EnterpriseFactory(), title="并发")
    return bob, bianca, case


def test_two_simultaneous_edits_from_one_version_save_one_and_tell_the_other(people):
    bob, bianca, case = people
    outcomes = run_together(
        lambda: services.case_update(user=bob, case=AssistanceCase.objects.get(pk=case.pk), version=1,
                                     diagnosis="王的诊断"),
        lambda: services.case_update(user=bianca, case=AssistanceCase.objects.get(pk=case.pk), version=1,
                                     plan="李的计划"),
    )
    conflicts = [o for o in outcomes if isinstance(o, ValidationError)]
    saved = [o for o in outcomes if isinstance(o, AssistanceCase)]
    assert len(saved) == 1 and len(conflicts) == 1 and conflicts[0].code == "conflict"
    case.refresh_from_db()
    assert case.version == 2
    assert (case.diagnosis, case.plan) in {("王的诊断", ""), ("", "李的计划")}


def test_two_assignments_racing_for_an_experts_last_place_need_an_override_for_the_second(people):
    bob, bianca, case = people
    other = services.case_open(user=bob, campaign=CampaignFactory(), enterprise=EnterpriseFactory(), title="另一家")
    expert = ExpertFactory(capacity=1)
    outcomes = run_together(
        lambda: services.case_assign_expert(user=bob, case=case, expert=expert),
        lambda: services.case_assign_expert(user=bianca, case=other, expert=expert),
    )
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(refused) == 1 and "override_reason" in refused[0].message_dict
    assert CaseAssignment.objects.filter(expert=expert, active=True).count() == 1


def test_two_kpi_runs_at_once_leave_one_complete_snapshot(people):
    from campaigns.kpis import engine as kpis
    from campaigns.kpis.models import KpiSnapshot

    bob, bianca, case = people
    services.visit_log(user=bob, case=case, visited_on=case.opened_at.date(), mode="on_site", hours=2,
                       people_present="王建国")
    kpis.compute_campaign(case.campaign_id)
    expected = KpiSnapshot.objects.filter(campaign_id=case.campaign_id).count()
    outcomes = run_together(lambda: kpis.compute_campaign(case.campaign_id),
                            lambda: kpis.compute_campaign(case.campaign_id))
    assert outcomes == [expected, expected]
    rows = KpiSnapshot.objects.filter(campaign_id=case.campaign_id)
    assert rows.count() == expected
    assert rows.get(region_id="130000", period="", breakdown="").figures["visits"] == 1
    # Neither left anything for a third full count to put right.
    assert kpis.recount(case.campaign_id, kpis.Touched(everything=True)).corrections == 0


def test_two_cases_opened_at_once_for_one_firm_make_one_and_tell_the_other_why(people):
    from django.utils import translation

    bob, bianca, case = people
    firm, campaign = EnterpriseFactory(), case.campaign

    def open_as(user):
        with translation.override("en"):
            return services.case_open(user=user, campaign=campaign, enterprise=firm, title="同时开案")

    outcomes = run_together(lambda: open_as(bob), lambda: open_as(bianca))
    opened = [o for o in outcomes if isinstance(o, AssistanceCase)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(opened) == 1 and len(refused) == 1, outcomes
    assert refused[0].message_dict == {"enterprise": ["This enterprise already has an open case in this campaign."]}
    assert AssistanceCase.objects.filter(campaign=campaign, enterprise=firm).count() == 1


def test_a_kpi_run_waits_for_the_one_already_counting_the_same_campaign(people, held_elsewhere):
    """Two recounts that ran side by side could each write from what the other had not committed
    yet; the second waits on the campaign's advisory lock instead (lock_timeout makes the wait show)."""
    from django.db import OperationalError, transaction

    from campaigns.kpis import engine as kpis

    _bob, _bianca, case = people
    # A recount in progress elsewhere: it holds the campaign's lock until its commit.
    with held_elsewhere(lambda: kpis.lock_runs_of(case.campaign_id)):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '200ms'")
            with pytest.raises(OperationalError, match="lock timeout"):
                kpis.recount(case.campaign_id, kpis.Touched(everything=True))
    # Free again once the first committed.
    assert kpis.recount(case.campaign_id, kpis.Touched(everything=True)).corrections == 0


def test_a_case_opened_while_the_period_is_shortened_never_lands_outside_it(people):
    import datetime

    from campaigns.services import campaign_update
    from tests.factories import UserFactory

    bob, _bianca, _case = people
    admin = UserFactory(username="admin", role="admin", is_superuser=True, is_staff=True)
    campaign = CampaignFactory()  # nothing recorded yet: shortening it is allowed until a case opens
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    firm = EnterpriseFactory()
    outcomes = run_together(
        lambda: services.case_open(user=bob, campaign=campaign, enterprise=firm, title="同时立案"),
        lambda: campaign_update(user=admin, campaign=campaign, ends_on=yesterday),
    )
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(refused) == 1, outcomes
    campaign.refresh_from_db()
    opened_after_end = AssistanceCase.objects.filter(campaign=campaign, opened_at__date__gt=campaign.ends_on)
    assert not opened_after_end.exists()
