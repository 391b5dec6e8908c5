"""Campaign targets and training sessions: who records them and what they count."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Sum
from django.utils import timezone

from campaigns.models import CampaignTarget
from campaigns.services import campaign_target_set
from campaigns.training import services as training_services
from campaigns.training.models import TrainingAttendance, TrainingSession
from portal.models import AuditEntry, Region
from tests.factories import CampaignFactory, EnterpriseFactory

pytestmark = pytest.mark.django_db

Metric, Scope = CampaignTarget.Metric, CampaignTarget.Scope


@pytest.fixture
def campaign():
    return CampaignFactory()


def record(user, campaign, attendances, **overrides):
    fields = {"region": Region.objects.get(code="130102"), "topic": "ISO 9001 内审员培训",
              "held_on": timezone.localdate() - datetime.timedelta(days=2), "organiser": "石家庄市市场监管局"}
    fields.update(overrides)
    return training_services.training_record(user=user, campaign=campaign, attendances=attendances, **fields)


def test_a_session_counts_firm_times_and_person_times(bob, campaign):
    firms = [EnterpriseFactory() for _ in range(3)]
    session = record(bob, campaign, [(firms[0], 2, "张三、李四"), (firms[1], 1, ""), (firms[2], 5, "")])
    totals = TrainingAttendance.objects.filter(session=session).aggregate(firms=Count("pk"), persons=Sum("persons"))
    assert totals == {"firms": 3, "persons": 8}
    entry = AuditEntry.objects.get(content_type__model="trainingsession", object_id=str(session.pk))
    assert entry.actor == bob and entry.region_code == "130102" and "8" in entry.note


def test_a_firm_listed_twice_or_outside_the_jurisdiction_saves_nothing(bob, campaign):
    firm = EnterpriseFactory()
    tangshan = EnterpriseFactory(region=Region.objects.get(code="130203"))
    for attendances in ([(firm, 1, ""), (firm, 2, "")], [(tangshan, 1, "")], [(firm, 0, "")]):
        with pytest.raises(ValidationError) as error:
            record(bob, campaign, attendances)
        assert "attendances" in error.value.message_dict
    assert not TrainingSession.objects.exists()


def test_only_regulators_of_the_region_record_sessions(charlie, diana, alice, campaign):
    for user in (charlie, diana, alice):
        with pytest.raises(PermissionDenied):
            record(user, campaign, [])


def test_a_session_must_be_held_inside_the_campaign_and_not_in_the_future(bob, campaign):
    for held_on in (timezone.localdate() + datetime.timedelta(days=1), campaign.starts_on - datetime.timedelta(1)):
        with pytest.raises(ValidationError) as error:
            record(bob, campaign, [], held_on=held_on)
        assert "held_on" in error.value.message_dict
    anhui = CampaignFactory(region=Region.objects.get(code="340000"))
    with pytest.raises(ValidationError) as error:
        record(bob, anhui, [])
    assert "region" in error.value.message_dict


def test_targets_are_set_once_per_scope_and_changed_in_place(bob, admin_user, campaign):
    campaign_target_set(user=admin_user, campaign=campaign, metric=Metric.KEY_FIRMS_ASSISTED,
                                 scope=Scope.EACH_CITY, value=50)
    campaign_target_set(user=admin_user, campaign=campaign, metric=Metric.KEY_FIRMS_ASSISTED,
                                 scope=Scope.EACH_CITY, value=60)
    assert CampaignTarget.objects.get().value == 60
    assert AuditEntry.objects.filter(content_type__model="campaigntarget").count() == 2
    with pytest.raises(PermissionDenied):  # a city regulator does not manage a province campaign
        campaign_target_set(user=bob, campaign=campaign, metric=Metric.PERSON_TIMES, value=3000)


def test_a_target_is_checked_for_its_kind(admin_user, campaign):
    cases = [
        ({"metric": Metric.CERTIFIED_SHARE, "value": 120}, "value"),
        ({"metric": Metric.SATISFACTION_MEAN, "value": 7}, "value"),
        ({"metric": Metric.FIRMS_ASSISTED, "value": 10, "scope": Scope.REGION}, "region"),
        ({"metric": Metric.FIRMS_ASSISTED, "value": 10, "scope": Scope.REGION,
          "region": Region.objects.get(code="340100")}, "region"),
    ]
    for fields, field in cases:
        with pytest.raises(ValidationError) as error:
            campaign_target_set(user=admin_user, campaign=campaign, **fields)
        assert field in error.value.message_dict
    assert not CampaignTarget.objects.exists()
