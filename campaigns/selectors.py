"""Reads of campaigns: which a user may see and manage, and which a firm's case may join."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from campaigns.models import Campaign
from enterprises.models import Enterprise
from portal.models import User, enclosing_codes
from portal.selectors import EVERYWHERE, jurisdiction_prefix, region_is_visible_to


def campaigns_visible_to(user: User) -> QuerySet[Campaign]:
    """Staff see campaigns of their jurisdiction and those above it; others see none as a list."""
    campaigns = Campaign.objects.select_related("region")
    prefix = jurisdiction_prefix(user)
    if prefix is None:
        return campaigns.none()
    if prefix == EVERYWHERE:
        return campaigns
    return campaigns.filter(Q(region__code__startswith=prefix) | Q(region_id__in=enclosing_codes(user.region_id)))


def campaigns_open_for(enterprise: Enterprise, day=None) -> QuerySet[Campaign]:
    """Campaigns a case for `enterprise` may join: covering its region and running on `day`."""
    day = day or timezone.localdate()
    return (
        Campaign.objects.select_related("region")
        .filter(region_id__in=enclosing_codes(enterprise.region_id), starts_on__lte=day, ends_on__gte=day)
    )


def campaigns_for_entry(enterprise: Enterprise) -> QuerySet[Campaign]:
    """Campaigns a case for `enterprise` may be recorded in: covering its region, started, open for
    entry; a running one takes a case opened today, an ended one a case entered after the fact."""
    return (
        Campaign.objects.select_related("region")
        .filter(region_id__in=enclosing_codes(enterprise.region_id), starts_on__lte=timezone.localdate(),
                entry_closed_at__isnull=True)
    )


def may_manage_campaign(user: User, campaign: Campaign) -> bool:
    """Regulators of the campaign's whole jurisdiction (or above it) and administrators."""
    return user.is_authenticated and (
        user.is_administrator or (user.is_regulator and region_is_visible_to(user, campaign.region_id))
    )
