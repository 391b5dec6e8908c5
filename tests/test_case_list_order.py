"""The case list puts what needs action first (issue 13, finding 9)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.cases import services
from campaigns.cases.models import AssistanceCase
from tests.factories import CampaignFactory, EnterpriseFactory

pytestmark = pytest.mark.django_db
Status = AssistanceCase.Status


def test_open_overdue_cases_come_first_and_closed_cases_last(client_for, bob):
    campaign = CampaignFactory()
    today = timezone.localdate()

    def case(title, **fields):
        opened = services.case_open(user=bob, campaign=campaign, enterprise=EnterpriseFactory(), needs=[],
                                    title=title)
        AssistanceCase.objects.filter(pk=opened.pk).update(**{"last_visit_on": today, **fields})
        return title

    # Opened in an order that newest-first alone would not give: the stale case before the fresh
    # one, the longer overdue before the shorter, the closed case last.
    stale = case("久未走访", last_visit_on=today - datetime.timedelta(days=40))
    fresh = case("进行中", next_follow_up_on=today + datetime.timedelta(days=5))
    later = case("逾期十天", next_follow_up_on=today - datetime.timedelta(days=10))
    late = case("逾期三天", next_follow_up_on=today - datetime.timedelta(days=3))
    closed_overdue = case("已结案", status=Status.CLOSED, resolution="resolved", closed_at=timezone.now(),
                          next_follow_up_on=today - datetime.timedelta(days=30))
    # Typed in last, for a case that opened three weeks ago (补录): it ranks by the day it opened.
    entered_later = case("补录", opened_at=timezone.now() - datetime.timedelta(days=21))

    response = client_for(bob).get(reverse("cases:list"))
    titles = [c.title for c in response.context["object_list"]]
    assert titles == [later, late, stale, fresh, entered_later, closed_overdue]
    html = response.content.decode()
    assert 'class="small text-nowrap">王建国</td>' in html
