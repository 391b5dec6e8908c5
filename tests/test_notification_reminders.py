"""The daily reminders (campaigns/cases/reminders.py) and the weekly pace check
(campaigns/kpis/pace.py): who is reminded of what, a rerun on the same day adds nothing, and the
number of statements does not grow with the number of cases."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.cases import services as cases
from campaigns.cases.models import AssistanceCase, CaseRating
from campaigns.cases.reminders import reminders_send
from campaigns.kpis.models import KpiSnapshot
from campaigns.kpis.pace import kpi_pace_check
from portal.models import Region
from portal.notifications.models import Delivery, Notification
from tests.factories import CampaignFactory, EnterpriseFactory

TODAY = timezone.localdate()


@pytest.fixture
def campaign(db):
    return CampaignFactory()


def open_cases(bob, campaign, count, **fields):
    made = [cases.case_open(user=bob, campaign=campaign, enterprise=EnterpriseFactory(), title=f"帮扶{n}")
            for n in range(count)]
    AssistanceCase.objects.filter(pk__in=[case.pk for case in made]).update(**fields)
    Notification.objects.all().delete()  # the cases' own "opened" notices
    return made


def reminded(user, kind):
    return list(Notification.objects.filter(recipient=user, kind=kind))


def test_a_follow_up_due_tomorrow_reminds_the_lead_once(bob, bianca, charlie, diana, campaign):
    [case] = open_cases(bob, campaign, 1, next_follow_up_on=TODAY + timedelta(days=1), last_visit_on=TODAY)
    assert reminders_send(TODAY)["follow_up_due"] == 1
    [note] = reminded(bob, "follow_up_due")
    assert case.title in note.title and (TODAY + timedelta(days=1)).isoformat() in note.body
    assert note.link == f"/cases/{case.pk}/" and note.object_id == str(case.pk)
    assert reminders_send(TODAY) == {"follow_up_due": 0, "follow_up_overdue": 0, "case_stale": 0,
                                     "rating_reminder": 0}
    assert Notification.objects.count() == 1
    assert not any(Notification.objects.filter(recipient=user).exists() for user in (bianca, charlie, diana))


def test_an_overdue_follow_up_is_reminded_once_per_promised_date(bob, campaign):
    [case] = open_cases(bob, campaign, 1, next_follow_up_on=TODAY - timedelta(days=2), last_visit_on=TODAY)
    reminders_send(TODAY)
    reminders_send(TODAY + timedelta(days=1))
    assert len(reminded(bob, "follow_up_overdue")) == 1
    AssistanceCase.objects.filter(pk=case.pk).update(next_follow_up_on=TODAY - timedelta(days=1))
    reminders_send(TODAY + timedelta(days=1))
    assert len(reminded(bob, "follow_up_overdue")) == 2


def test_a_case_without_a_visit_for_30_days_reminds_its_lead(bob, campaign):
    long_ago = TODAY - timedelta(days=31)
    open_cases(bob, campaign, 1, last_visit_on=long_ago)
    open_cases(bob, campaign, 1, last_visit_on=TODAY - timedelta(days=29))
    assert reminders_send(TODAY)["case_stale"] == 1
    assert long_ago.isoformat() in reminded(bob, "case_stale")[0].body


def test_a_closed_case_is_not_reminded(bob, campaign):
    [case] = open_cases(bob, campaign, 1, next_follow_up_on=TODAY + timedelta(days=1), last_visit_on=TODAY)
    cases.case_close(user=bob, case=case, resolution="unresolved", note="停产")
    Notification.objects.all().delete()
    assert reminders_send(TODAY) == {"follow_up_due": 0, "follow_up_overdue": 0, "case_stale": 0,
                                     "rating_reminder": 0}


def test_the_firm_is_reminded_to_rate_once_a_week_after_closing_unless_it_rated(alice, bob, campaign):
    firm = alice.enterprises.get()
    case = cases.case_open(user=bob, campaign=campaign, enterprise=firm, title="计量帮扶")
    cases.case_close(user=bob, case=case, resolution="unresolved", note="停产")
    assert reminders_send(TODAY)["rating_reminder"] == 0  # closed today: the closing notice asked already
    later = TODAY + timedelta(days=7)
    assert reminders_send(later)["rating_reminder"] == 1
    assert reminders_send(later + timedelta(days=1))["rating_reminder"] == 0
    [note] = reminded(alice, "rating_reminder")
    assert note.link == f"/cases/{case.pk}/rate/"
    assert not Notification.objects.filter(kind="rating_reminder").exclude(recipient=alice).exists()


def test_a_rated_case_gets_no_rating_reminder(alice, bob, campaign):
    case = cases.case_open(user=bob, campaign=campaign, enterprise=alice.enterprises.get(), title="计量帮扶")
    cases.case_close(user=bob, case=case, resolution="unresolved", note="停产")
    CaseRating.objects.create(case=case, score=5, rated_by=alice)
    assert reminders_send(TODAY + timedelta(days=8))["rating_reminder"] == 0


def test_reminders_are_written_in_the_leads_language_with_an_email_delivery(bob, campaign):
    bob.language, bob.email = "en", "bob@example.com"
    bob.save()
    [case] = open_cases(bob, campaign, 1, next_follow_up_on=TODAY + timedelta(days=1), last_visit_on=TODAY)
    reminders_send(TODAY)
    [note] = reminded(bob, "follow_up_due")
    assert note.title == f"Follow-up due tomorrow: {case.title}"
    assert Delivery.objects.get(notification=note).state == "pending"


def test_the_number_of_statements_does_not_grow_with_the_cases(bob, bianca, campaign):
    def statements(count: int) -> int:
        AssistanceCase.objects.all().delete()
        Notification.objects.all().delete()
        for lead in (bob, bianca):
            open_cases(lead, campaign, count, next_follow_up_on=TODAY + timedelta(days=1),
                       last_visit_on=TODAY - timedelta(days=40))
        with CaptureQueriesContext(connection) as queries:
            sent = reminders_send(TODAY)
        assert sent["follow_up_due"] == 2 * count and sent["case_stale"] == 2 * count
        return len(queries)

    assert statements(1) == statements(6)


# --- The weekly pace of targets -------------------------------------------------------------------------


@pytest.fixture
def halfway_campaign(db):
    return CampaignFactory(starts_on=TODAY - timedelta(days=59), ends_on=TODAY + timedelta(days=40))


def snapshot(campaign, code, **figures):
    region = Region.objects.get(code=code)
    return KpiSnapshot.objects.create(campaign=campaign, region=region, level=region.level, period="", breakdown="",
                                      figures=figures, computed_at=timezone.now())


def test_a_region_behind_its_pace_past_midway_tells_its_regulators_once_a_week(bob, bianca, charlie, diana,
                                                                                 halfway_campaign):
    # 60 of 100 days gone: pace is 60% of the target.
    snapshot(halfway_campaign, "130100", firms_assisted=5, training_sessions=9,
             targets={"firms_assisted": 10, "training_sessions": 10, "satisfaction_mean": 4.5})
    snapshot(halfway_campaign, "130200", firms_assisted=8, targets={"firms_assisted": 10})
    assert kpi_pace_check(TODAY) == 2
    for user in (bob, bianca):
        [note] = reminded(user, "kpi_behind")
        assert "石家庄市" in note.title and "5 / 10" in note.body and "9 / 10" not in note.body
        assert note.link == f"/dashboards/{halfway_campaign.pk}/?region=130100"
    assert not Notification.objects.filter(recipient__in=[charlie, diana]).exists()  # 8 ≥ 6: on pace
    assert kpi_pace_check(TODAY) == 0
    assert kpi_pace_check(TODAY + timedelta(days=7)) == 2


def test_before_midway_nobody_is_told(bob, db):
    early = CampaignFactory(starts_on=TODAY - timedelta(days=10), ends_on=TODAY + timedelta(days=89))
    snapshot(early, "130100", firms_assisted=0, targets={"firms_assisted": 10})
    assert kpi_pace_check(TODAY) == 0
