"""Training sessions typed in after the fact (补录, from a paper sign-in sheet) say so, with who
entered them and when: on the list, the session's page and in the API, as cases and visits do.

Personas: bob regulates Shijiazhuang, charlie Tangshan, diana supervises Hebei read-only.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.training import services
from campaigns.training.models import TrainingSession
from portal.models import Region
from tests.factories import CampaignFactory, EnterpriseFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


@pytest.fixture
def campaign(db):
    return CampaignFactory(name="河北省质量提升行动")


def record(user, campaign, *, days_ago: int, topic: str) -> TrainingSession:
    return services.training_record(
        user=user, campaign=campaign, region=Region.objects.get(code="130102"), topic=topic,
        organiser="石家庄市市场监督管理局", held_on=TODAY() - datetime.timedelta(days=days_ago),
        attendances=[(EnterpriseFactory(), 2, "")])


@pytest.fixture
def sessions(bob, campaign):
    """One typed in the day after it was held, one typed in 30 days after (from the paper sheet)."""
    prompt = record(bob, campaign, days_ago=1, topic="当周录入的培训")
    late = record(bob, campaign, days_ago=30, topic="补录的培训")
    return prompt, late


def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_the_session_page_shows_the_badge_with_who_entered_it_and_when(client_for, settings, bob, sessions):
    prompt, late = sessions
    client = english(client_for(bob), settings)
    html = client.get(reverse("training:detail", args=[late.pk])).content.decode()
    assert 'data-testid="entered-later"' in html
    assert f"Entered by 王建国 on {TODAY():%Y-%m-%d}" in html
    prompt_page = client.get(reverse("training:detail", args=[prompt.pk])).content.decode()
    assert 'data-testid="entered-later"' not in prompt_page


def test_the_list_marks_only_the_sessions_entered_later(client_for, settings, bob, sessions):
    prompt, late = sessions
    html = english(client_for(bob), settings).get(reverse("training:list")).content.decode()
    # One badge in the table and one on the phone's card, both on the late session's row.
    assert html.count('data-testid="entered-later"') == 2
    rows = {topic: row for row in (chunk.split("</tr>")[0] for chunk in html.split("<tr>"))
            for topic in ("补录的培训", "当周录入的培训") if topic in row}
    assert 'data-testid="entered-later"' in rows["补录的培训"]
    assert 'data-testid="entered-later"' not in rows["当周录入的培训"]


def test_a_session_of_a_campaign_that_ended_counts_as_entered_later_whenever_held(bob, campaign):
    session = record(bob, campaign, days_ago=1, topic="最后一次培训")
    campaign.ends_on = TODAY() - datetime.timedelta(days=1)
    campaign.save()
    session.refresh_from_db()
    assert session.entered_later


def test_the_api_says_entered_later_with_who_and_when(api, bob, sessions):
    prompt, late = sessions
    body = api(bob).get(reverse("api:training-session-list")).json()["results"]
    flags = {row["topic"]: (row["entered_later"], row["recorded_by"]) for row in body}
    assert flags == {"当周录入的培训": (False, "王建国"), "补录的培训": (True, "王建国")}
    detail = api(bob).get(reverse("api:training-session-detail", args=[late.pk])).json()
    assert detail["entered_later"] is True and detail["recorded_at"].startswith(TODAY().isoformat())


@pytest.mark.parametrize(("who", "code"), [("bob", 200), ("bianca", 200), ("diana", 200), ("charlie", 404),
                                           ("alice", 403)])
def test_the_badge_is_shown_only_to_those_who_may_read_the_session(client_for, persona, sessions, who, code):
    response = client_for(persona(who)).get(reverse("training:detail", args=[sessions[1].pk]))
    assert response.status_code == code
    assert ('data-testid="entered-later"' in response.content.decode()) == (code == 200)


def test_anonymous_visitors_are_sent_to_sign_in(client, sessions):
    response = client.get(reverse("training:detail", args=[sessions[1].pk]))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("count", [2, 12])
def test_the_badge_costs_no_query_per_session(client_for, bob, campaign, django_assert_max_num_queries, count):
    for n in range(count):
        record(bob, campaign, days_ago=30 + n % 5, topic=f"补录{n}")
    client = client_for(bob)
    client.get(reverse("training:list"))
    # The same 8 queries as without the badge (tests/test_training_pages.py): the campaign of each
    # session comes with the page of sessions.
    with django_assert_max_num_queries(8):
        response = client.get(reverse("training:list"))
    assert response.content.decode().count('data-testid="entered-later"') == 2 * count
