"""The KPI engine against a straightforward recount in Python (the oracle) of the same rows.

The engine counts in the database, adds cells up from counties to cities and from months to date,
and counts distinct firms at every level; the oracle walks the rows one by one for every region and
period. Firms with several cases, visits and certificates, across counties and months, a firm that
moved, and ratings on the boundary of "satisfied" are built by hand; hypothesis builds the rest.
"""

import datetime
import itertools
import os
from collections import defaultdict
from dataclasses import dataclass

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.cases.models import AssistanceCase, CaseRating, Visit
from campaigns.kpis import engine as kpis
from campaigns.kpis.models import KpiSnapshot
from enterprises.models import Certification, KeyDesignation, NeedsSurvey
from portal.models import ServiceArea
from tests.factories import (
    CampaignFactory,
    CaseFactory,
    EnterpriseFactory,
    RegulatorFactory,
    UserFactory,
    VisitFactory,
    region,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()
TODAY = timezone.localdate()
# Region codes of Hebei a firm may be registered under: counties of two cities, and a city's own code
# (a firm filed under the city counts in the city and the province, in no county).
CODES = ["130102", "130104", "130100", "130203", "130200"]
COUNTED = ("cases", "firms_assisted", "key_firms_assisted", "key_industries", "cases_closed", "cases_resolved",
           "visits", "on_site_visits", "consultations", "firms_certified", "ratings", "satisfied")


def month_of(value) -> str:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value)
    return f"{value.year:04d}-{value.month:02d}"


def inside(firm_code: str, region_code: str) -> bool:
    """Whether a row filed under `firm_code` counts in the region `region_code` (written out, not
    the engine's `places`): a province or city takes every code under its prefix, a county its own."""
    if region_code.endswith("0000"):
        return firm_code[:2] == region_code[:2]
    if region_code.endswith("00"):
        return firm_code[:4] == region_code[:4]
    return firm_code == region_code


def oracle(campaign) -> dict[tuple[str, str], dict]:
    """(region, period) → the figures, recounted row by row for every region of the campaign's
    jurisdiction that has any (period "" to date, else "YYYY-MM")."""
    cases = list(AssistanceCase.objects.filter(campaign=campaign).select_related("enterprise"))
    visits = list(Visit.objects.filter(case__campaign=campaign).select_related("case__enterprise"))
    ratings = list(CaseRating.objects.filter(case__campaign=campaign).select_related("case__enterprise"))
    assisted = {case.enterprise_id for case in cases}
    certificates = [cert for cert in Certification.objects.select_related("enterprise")
                    if cert.enterprise_id in assisted and campaign.starts_on <= cert.issued_on <= campaign.ends_on]
    regions = {code for case in cases for code in (case.enterprise.region_id[:2] + "0000",
                                                   case.enterprise.region_id[:4] + "00", case.enterprise.region_id)}
    regions |= {cert.enterprise.region_id for cert in certificates}
    found = defaultdict(lambda: defaultdict(set))  # (region, period) → figure → the things counted
    for region_code in regions:
        def count(period, name, thing, code, region_code=region_code):
            if inside(code, region_code):
                found[(region_code, period)][name].add(thing)
                found[(region_code, "")][name].add(thing)

        for case in cases:
            firm = case.enterprise
            opened = month_of(case.opened_at)
            count(opened, "cases", case.pk, firm.region_id)
            count(opened, "firms_assisted", firm.pk, firm.region_id)
            if firm.is_key:
                count(opened, "key_firms_assisted", firm.pk, firm.region_id)
                count(opened, "key_industries", firm.industry_id, firm.region_id)
            if case.status == AssistanceCase.Status.CLOSED:
                count(month_of(case.closed_at), "cases_closed", case.pk, firm.region_id)
                if case.resolution == AssistanceCase.Resolution.RESOLVED:
                    count(month_of(case.closed_at), "cases_resolved", case.pk, firm.region_id)
        for visit in visits:
            code, month = visit.case.enterprise.region_id, month_of(visit.visited_on)
            count(month, "visits", visit.pk, code)
            count(month, "on_site_visits" if visit.mode == "on_site" else "consultations", visit.pk, code)
            count(month, "hours", (visit.pk, visit.hours), code)
        for cert in certificates:
            count(month_of(cert.issued_on), "firms_certified", cert.enterprise_id, cert.enterprise.region_id)
        for rating in ratings:
            code, month = rating.case.enterprise.region_id, month_of(rating.rated_at)
            count(month, "ratings", rating.pk, code)
            count(month, "scores", (rating.pk, rating.score), code)
            if rating.score >= 4:
                count(month, "satisfied", rating.pk, code)
    expected = {}
    for key, things in found.items():
        figures = {name: len(things[name]) for name in COUNTED}
        hours = sum(hours for _pk, hours in things["hours"])
        # To date, no visits is 0 hours; a month without visits does not mention them.
        figures["visit_hours"] = float(hours) if things["hours"] else (0.0 if key[1] == "" else None)
        scores = [score for _pk, score in things["scores"]]
        figures["satisfaction_mean"] = round(sum(scores) / len(scores), 2) if scores else None
        figures["satisfied_share"] = round(100 * figures["satisfied"] / len(scores), 2) if scores else None
        if key[1] == "":
            assisted_here = figures["firms_assisted"]
            figures["certified_share"] = (round(100 * figures["firms_certified"] / assisted_here, 2)
                                          if assisted_here else None)
        expected[key] = figures
    return expected


def engine_figures(campaign, keys) -> dict[tuple[str, str], dict]:
    """The engine's figures named in `keys` for those rows; a monthly row leaves out a count it has
    none of, read here as 0."""
    rows = KpiSnapshot.objects.filter(campaign=campaign, breakdown="")
    found = {}
    for row in rows:
        names = keys.get((row.region_id, row.period))
        if names is not None:
            found[(row.region_id, row.period)] = {
                name: 0 if row.figures.get(name) is None and name in COUNTED else row.figures.get(name)
                for name in names}
    return found


def assert_engine_agrees_with_oracle(campaign):
    kpis.compute_campaign(campaign.pk)
    expected = oracle(campaign)
    counted = engine_figures(campaign, {key: list(figures) for key, figures in expected.items()})
    assert set(counted) == set(expected)
    wrong = [(key, name, figures[name], counted[key][name]) for key, figures in sorted(expected.items())
             for name in figures if counted[key][name] != figures[name]]
    assert wrong == [], "(region, period), figure, oracle, engine"
    # Nothing counted anywhere else: every other row of the campaign shows none of these figures.
    for row in KpiSnapshot.objects.filter(campaign=campaign, breakdown="", region__code__startswith="13"):
        if (row.region_id, row.period) not in expected:
            assert not any(row.figures.get(name) for name in COUNTED), (row.region_id, row.period, row.figures)


def moment(days_ago: int) -> datetime.datetime:
    return NOW - datetime.timedelta(days=days_ago)


def closed_case(firm, campaign, *, opened: int, closed: int, resolution="resolved", **fields):
    return CaseFactory(campaign=campaign, enterprise=firm, opened_at=moment(opened), status="closed",
                       resolution=resolution, closed_at=moment(closed), **fields)


def rate(case, score: int, days_ago: int = 0):
    return CaseRating.objects.create(case=case, score=score, rated_by=UserFactory(), rated_at=moment(days_ago))


CERTIFICATE_NUMBERS = itertools.count(1)


def certify(firm, days_ago: int, scheme: str = "iso9001"):
    return Certification.objects.create(enterprise=firm, scheme=scheme, number=f"Q-{next(CERTIFICATE_NUMBERS)}",
                                        body="CQC",
                                        issued_on=TODAY - datetime.timedelta(days=days_ago))


# --- distinct firms, by hand ------------------------------------------------------------------------


@pytest.fixture
def campaign(db):
    return CampaignFactory()


def test_one_firm_with_several_cases_visits_and_certificates_across_months_is_one_firm(campaign):
    firm = EnterpriseFactory(region=region("130102"), is_key=True)
    first = closed_case(firm, campaign, opened=200, closed=150)
    second = closed_case(firm, campaign, opened=100, closed=60, resolution="unresolved")
    third = CaseFactory(campaign=campaign, enterprise=firm, opened_at=moment(10))
    for case, days in ((first, 190), (first, 160), (second, 90), (third, 5)):
        VisitFactory(case=case, visited_on=TODAY - datetime.timedelta(days=days))
    certify(firm, 170)
    certify(firm, 20)
    kpis.compute_campaign(campaign.pk)
    for code in ("130000", "130100", "130102"):
        figures = KpiSnapshot.objects.get(campaign=campaign, region_id=code, period="", breakdown="").figures
        assert (figures["cases"], figures["firms_assisted"], figures["key_firms_assisted"]) == (3, 1, 1), code
        assert (figures["visits"], figures["firms_certified"], figures["certified_share"]) == (4, 1, 100.0), code
    assert_engine_agrees_with_oracle(campaign)


def test_firms_in_two_counties_and_two_cities_count_once_each_everywhere_above(campaign):
    firms = [EnterpriseFactory(region=region(code)) for code in ("130102", "130104", "130203", "130100")]
    for index, firm in enumerate(firms):
        closed_case(firm, campaign, opened=120 + index, closed=90)
        CaseFactory(campaign=campaign, enterprise=firm, opened_at=moment(30 + index))
        certify(firm, 40 + index)
    kpis.compute_campaign(campaign.pk)

    def firms_assisted(code, period=""):
        return KpiSnapshot.objects.get(campaign=campaign, region_id=code, period=period, breakdown="").figures[
            "firms_assisted"]

    assert [firms_assisted(code) for code in ("130000", "130100", "130200", "130102", "130104", "130203")] == [
        4, 3, 1, 1, 1, 1]
    assert firms_assisted("130000", month_of(moment(30))) == 4
    assert_engine_agrees_with_oracle(campaign)


def test_a_firm_that_moved_counts_where_the_registry_has_it_now(campaign):
    firm = EnterpriseFactory(region=region("130102"))
    closed_case(firm, campaign, opened=200, closed=150)
    CaseFactory(campaign=campaign, enterprise=firm, opened_at=moment(20))
    certify(firm, 100)
    kpis.compute_campaign(campaign.pk)
    firm.region = region("130203")  # moved from Shijiazhuang to Tangshan
    firm.save()
    kpis.compute_campaign(campaign.pk)

    def figures(code):
        return KpiSnapshot.objects.get(campaign=campaign, region_id=code, period="", breakdown="").figures

    assert (figures("130000")["firms_assisted"], figures("130000")["cases"]) == (1, 2)
    assert (figures("130200")["firms_assisted"], figures("130203")["firms_certified"]) == (1, 1)
    assert (figures("130100")["firms_assisted"], figures("130102")["firms_assisted"]) == (0, 0)
    assert figures("130100")["firms_certified"] == 0
    assert_engine_agrees_with_oracle(campaign)


@pytest.mark.parametrize(("scores", "satisfied", "share", "mean"), [
    ([4], 1, 100.0, 4.0),
    ([3], 0, 0.0, 3.0),
    ([5], 1, 100.0, 5.0),
    ([3, 4], 1, 50.0, 3.5),
    ([1, 2, 3, 4, 5], 2, 40.0, 3.0),
])
def test_a_rating_of_4_or_more_is_satisfied(campaign, scores, satisfied, share, mean):
    for score in scores:
        case = closed_case(EnterpriseFactory(), campaign, opened=50, closed=40)
        rate(case, score)
    kpis.compute_campaign(campaign.pk)
    figures = KpiSnapshot.objects.get(campaign=campaign, region_id="130000", period="", breakdown="").figures
    assert (figures["ratings"], figures["satisfied"], figures["satisfied_share"], figures["satisfaction_mean"]) == (
        len(scores), satisfied, share, mean)


# --- random small campaigns (hypothesis) -----------------------------------------------------------


# Under mutation testing (tests/mutation.py) each mutant reaching the engine reruns this: fewer,
# fixed examples there.
UNDER_MUTATION = bool(os.environ.get("MUTANT_UNDER_TEST"))
EXAMPLES = 6 if UNDER_MUTATION else 20


@dataclass
class FirmPlan:
    code: str
    key: bool
    industry: str


firm_plans = st.builds(FirmPlan, code=st.sampled_from(CODES), key=st.booleans(),
                       industry=st.sampled_from(["13", "14", "39"]))
case_plans = st.fixed_dictionaries({
    "firm": st.integers(min_value=0, max_value=3),
    "opened": st.integers(min_value=1, max_value=330),
    "closing": st.sampled_from([None, "resolved", "unresolved"]),
    "score": st.one_of(st.none(), st.integers(min_value=1, max_value=5)),
    "visits": st.lists(st.tuples(st.integers(min_value=0, max_value=330),
                                 st.sampled_from(["on_site", "remote", "mobile_clinic"]),
                                 st.sampled_from(["0.5", "2", "3.5"])), max_size=3),
})
certificate_plans = st.lists(st.tuples(st.integers(min_value=0, max_value=3),
                                       st.integers(min_value=0, max_value=400)), max_size=4)


@settings(max_examples=EXAMPLES, derandomize=UNDER_MUTATION, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(firms=st.lists(firm_plans, min_size=1, max_size=4), cases=st.lists(case_plans, max_size=6),
       certificates=certificate_plans)
def test_random_small_campaigns_count_as_the_oracle_does(db, firms, cases, certificates):
    """Each example is a campaign of its own (figures are per campaign), with firms of its own."""
    campaign = CampaignFactory()
    lead = RegulatorFactory()
    made = [EnterpriseFactory(region=region(plan.code), is_key=plan.key, industry_id=plan.industry) for plan in firms]
    open_firms = set()
    for plan in cases:
        firm = made[plan["firm"] % len(made)]
        opened = plan["opened"]
        closing = plan["closing"]
        if closing is None and firm.pk in open_firms:
            closing = "unresolved"  # one open case per firm and campaign
        if closing is None:
            open_firms.add(firm.pk)
            case = CaseFactory(campaign=campaign, enterprise=firm, lead=lead, opened_at=moment(opened))
        else:
            case = closed_case(firm, campaign, opened=opened, closed=opened // 2, resolution=closing, lead=lead)
            if plan["score"] is not None:
                rate(case, plan["score"], days_ago=opened // 3)
        for days, mode, hours in plan["visits"]:
            VisitFactory(case=case, visited_on=TODAY - datetime.timedelta(days=min(days, opened)), mode=mode,
                         hours=hours)
    for index, days in certificates:
        certify(made[index % len(made)], days)
    assert_engine_agrees_with_oracle(campaign)


# --- the survey, per-scheme and designation figures -------------------------------------------------


NEW_COUNTED = ("firms_surveyed", "surveyed_certified", "baseline_surveys", "key_parks", "key_products",
               "firms_certified", "firms_wanting")


def share_of(part: int, whole: int):
    return round(100 * part / whole, 2) if whole else None


def survey_oracle(campaign) -> dict[tuple[str, str, str, str], dict]:
    """(region, period, breakdown, key) → the survey, scheme, service-area and designation figures,
    recounted row by row: firms surveyed and baseline firms by the month they answered, certified firms
    by the month of the certificate, designations by the day they were designated."""
    in_period = lambda day: campaign.starts_on <= day <= campaign.ends_on  # noqa: E731
    surveys = list(NeedsSurvey.objects.filter(campaign=campaign).select_related("enterprise")
                   .prefetch_related("services_wanted"))
    surveyed = {survey.enterprise_id for survey in surveys}
    assisted = set(AssistanceCase.objects.filter(campaign=campaign).values_list("enterprise_id", flat=True))
    certificates = [cert for cert in Certification.objects.select_related("enterprise") if in_period(cert.issued_on)]
    designations = [d for d in KeyDesignation.objects.all()
                    if in_period(d.designated_on) and d.region_id.startswith(campaign.region.prefix)]
    facts = []  # (code, month, breakdown, key, figure, thing)
    for survey in surveys:
        code, month = survey.enterprise.region_id, month_of(survey.answered_at)
        facts.append((code, month, "", "", "firms_surveyed", survey.enterprise_id))
        if survey.kind == "baseline":
            facts.append((code, month, "", "", "baseline_surveys", survey.enterprise_id))
            facts += [(code, None, "service_area", str(area.code), "firms_wanting", survey.enterprise_id)
                      for area in survey.services_wanted.all()]
    for cert in certificates:
        code, month = cert.enterprise.region_id, month_of(cert.issued_on)
        if cert.enterprise_id in surveyed:
            facts.append((code, month, "", "", "surveyed_certified", cert.enterprise_id))
            facts.append((code, None, "scheme", cert.scheme, "surveyed_certified", cert.enterprise_id))
        if cert.enterprise_id in assisted:
            facts.append((code, None, "scheme", cert.scheme, "firms_certified", cert.enterprise_id))
    for designation in designations:
        figure = "key_parks" if designation.kind == "park" else "key_products"
        facts.append((designation.region_id, month_of(designation.designated_on), "", "", figure, designation.pk))
    found = defaultdict(lambda: defaultdict(set))
    for code, month, breakdown, key, figure, thing in facts:
        for region_code in {code[:2] + "0000", code[:4] + "00", code}:
            if not inside(code, region_code):
                continue
            found[(region_code, "", breakdown, key)][figure].add(thing)
            if month is not None:
                found[(region_code, month, breakdown, key)][figure].add(thing)
    totals_assisted = {}
    for case in AssistanceCase.objects.filter(campaign=campaign).select_related("enterprise"):
        for region_code in {case.enterprise.region_id[:2] + "0000", case.enterprise.region_id[:4] + "00",
                            case.enterprise.region_id}:
            if inside(case.enterprise.region_id, region_code):
                totals_assisted.setdefault(region_code, set()).add(case.enterprise_id)
    expected = {}
    for key, things in found.items():
        figures = {name: len(things[name]) for name in NEW_COUNTED if name in things or key[2] == ""}
        totals = found.get((key[0], "", "", ""), {})
        if key[2] == "scheme":
            if "firms_certified" in things:
                figures["certified_share"] = share_of(len(things["firms_certified"]),
                                                      len(totals_assisted.get(key[0], ())))
            if "surveyed_certified" in things:
                figures["surveyed_certified_share"] = share_of(len(things["surveyed_certified"]),
                                                               len(totals.get("firms_surveyed", ())))
        elif key[2] == "service_area":
            figures["wanting_share"] = share_of(len(things["firms_wanting"]), len(totals.get("baseline_surveys", ())))
        elif key[1] == "":
            figures["surveyed_certified_share"] = share_of(figures["surveyed_certified"], figures["firms_surveyed"])
        figures.pop("firms_certified", None) if key[2] == "" else None  # the totals' own are checked above
        expected[key] = figures
    return expected


def assert_survey_figures_agree_with_oracle(campaign):
    kpis.compute_campaign(campaign.pk)
    expected = survey_oracle(campaign)
    rows = {(row.region_id, row.period, row.breakdown, row.key): row.figures
            for row in KpiSnapshot.objects.filter(campaign=campaign)}
    wrong = []
    for key, figures in sorted(expected.items()):
        engine = rows.get(key, {})
        for name, value in figures.items():
            actual = engine.get(name)
            if actual is None and name in NEW_COUNTED:
                actual = 0
            if actual != value:
                wrong.append((key, name, value, actual))
    assert wrong == [], "(region, period, breakdown, key), figure, oracle, engine"
    # Nothing counted anywhere else (firms certified in any scheme is the first oracle's).
    for key, figures in rows.items():
        if key not in expected:
            assert not any(figures.get(name) for name in NEW_COUNTED if name != "firms_certified"), (key, figures)


def test_a_firm_surveyed_twice_and_certified_twice_is_one_firm_per_scheme(campaign):
    firm = EnterpriseFactory(region=region("130102"))
    other = EnterpriseFactory(region=region("130203"))
    for kind, days in (("baseline", 200), ("follow_up", 20)):
        survey(firm, campaign, kind, days, areas=[2, 8])
    survey(other, campaign, "baseline", 100, areas=[2])
    for scheme, days in (("iso9001", 150), ("iso9001", 30), ("haccp", 30)):
        certify(firm, days, scheme=scheme)
    CaseFactory(campaign=campaign, enterprise=firm, opened_at=moment(10))
    kpis.compute_campaign(campaign.pk)
    province = KpiSnapshot.objects.get(campaign=campaign, region_id="130000", period="", breakdown="").figures
    assert (province["firms_surveyed"], province["baseline_surveys"], province["surveyed_certified"]) == (2, 2, 1)
    iso9001 = KpiSnapshot.objects.get(campaign=campaign, region_id="130000", breakdown="scheme", key="iso9001")
    assert (iso9001.figures["firms_certified"], iso9001.figures["surveyed_certified_share"]) == (1, 50.0)
    assert_survey_figures_agree_with_oracle(campaign)


def survey(firm, campaign, kind, days, areas=()):
    answered = NeedsSurvey.objects.create(enterprise=firm, campaign=campaign, kind=kind, answered_by=UserFactory(),
                                          answered_at=moment(days),
                                          awareness_improved=True if kind == "follow_up" else None,
                                          performance_improved=True if kind == "follow_up" else None)
    answered.services_wanted.set(ServiceArea.objects.filter(code__in=areas))
    return answered


designation_numbers = itertools.count(1)
survey_plans = st.lists(st.tuples(st.integers(min_value=0, max_value=3), st.sampled_from(["baseline", "follow_up"]),
                                  st.integers(min_value=0, max_value=400),
                                  st.sets(st.sampled_from([1, 2, 8]), max_size=2)), max_size=6)
scheme_certificate_plans = st.lists(st.tuples(st.integers(min_value=0, max_value=3),
                                              st.sampled_from(["iso9001", "iso14001", "haccp"]),
                                              st.integers(min_value=0, max_value=400)), max_size=5)
designation_plans = st.lists(st.tuples(st.sampled_from([*CODES, "440300"]), st.sampled_from(["park", "product"]),
                                       st.integers(min_value=0, max_value=500)), max_size=5)


@settings(max_examples=EXAMPLES, derandomize=UNDER_MUTATION, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(firms=st.lists(firm_plans, min_size=1, max_size=4), surveys=survey_plans,
       certificates=scheme_certificate_plans, assisted=st.sets(st.integers(min_value=0, max_value=3), max_size=3),
       designations=designation_plans)
def test_random_surveys_certificates_and_designations_count_as_the_oracle_does(db, firms, surveys, certificates,
                                                                               assisted, designations):
    campaign = CampaignFactory()
    made = [EnterpriseFactory(region=region(plan.code), is_key=plan.key, industry_id=plan.industry) for plan in firms]
    for index, kind, days, areas in surveys:
        survey(made[index % len(made)], campaign, kind, days, areas)
    for index, scheme, days in certificates:
        certify(made[index % len(made)], days, scheme=scheme)
    for index in {index % len(made) for index in assisted}:
        CaseFactory(campaign=campaign, enterprise=made[index], opened_at=moment(5))
    designator = UserFactory(role="admin")
    for code, kind, days in designations:
        KeyDesignation.objects.create(name=f"指定{next(designation_numbers)}", region=region(code), kind=kind,
                                      designated_on=TODAY - datetime.timedelta(days=days), designated_by=designator)
    assert_survey_figures_agree_with_oracle(campaign)
