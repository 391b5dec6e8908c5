"""Incremental KPI updates against the full count: random sequences of writes through the services
(and deletions in admin), each drained from the outbox as a worker would, must leave exactly the
figures a full recount finds; the full count then has nothing to correct."""

import datetime
import random
from decimal import Decimal

import pytest

from campaigns.cases import services
from campaigns.cases.models import AssistanceCase, Visit
from campaigns.kpis import engine
from campaigns.kpis.models import KpiCell, KpiSnapshot
from campaigns.services import campaign_target_set
from campaigns.training import services as training_services
from campaigns.training.models import TrainingSession
from enterprises import services as registry
from enterprises.designations.services import key_designation_create, key_designation_remove
from enterprises.models import Certification, KeyDesignation, NeedRequest, NeedsSurvey
from portal import outbox
from portal.models import Industry, OutboxEntry, Region, ServiceArea
from tests.factories import CampaignFactory, EnterpriseFactory, RegulatorFactory, UserFactory

TODAY = datetime.date.today()
COUNTIES = ["130102", "130104", "130105", "130202", "130203", "130100"]  # the last: a firm filed under its city


def figures_of(campaign) -> dict:
    return {(row.region_id, row.period, row.breakdown, row.key): row.figures
            for row in KpiSnapshot.objects.filter(campaign=campaign)}


def cells_of(campaign) -> dict:
    return {(cell.source, cell.code, cell.period, cell.breakdown, cell.key): cell.values
            for cell in KpiCell.objects.filter(campaign=campaign)}


class World:
    """A province campaign, its people and a random stream of things happening to it."""

    def __init__(self, seed: int, admin, region: str = "130000"):
        self.rng = random.Random(seed)
        self.admin = admin
        self.campaign = CampaignFactory(region=Region.objects.get(code=region))
        self.regulator = RegulatorFactory(region=Region.objects.get(code="130000"))
        self.areas = list(ServiceArea.objects.filter(active=True))
        self.divisions = list(Industry.objects.filter(level=Industry.Level.DIVISION).order_by("code")[:12])
        self.firms = []
        for n in range(8):
            contact = UserFactory()
            firm = EnterpriseFactory(region=Region.objects.get(code=self.rng.choice(COUNTIES)),
                                     industry=self.rng.choice(self.divisions), is_key=n % 3 == 0)
            firm.users.add(contact)
            self.firms.append((firm, contact))
        engine.compute_campaign(self.campaign.pk)

    def day(self, back: int = 300) -> datetime.date:
        return TODAY - datetime.timedelta(days=self.rng.randint(0, back))

    def open_cases(self):
        return list(AssistanceCase.objects.filter(campaign=self.campaign).exclude(status="closed"))

    # Each step writes through a service; a step that the rules refuse simply writes nothing.
    def need(self):
        firm, contact = self.rng.choice(self.firms)
        registry.need_submit(user=contact, enterprise=firm, service_area=self.rng.choice(self.areas),
                             title="需求", description="计量器具校准")

    def open_case(self):
        firm, _contact = self.rng.choice(self.firms)
        needs = list(NeedRequest.objects.filter(enterprise=firm, status="submitted")[:1])
        services.case_open(user=self.regulator, campaign=self.campaign, enterprise=firm, title="帮扶", needs=needs)

    def visit(self):
        cases = self.open_cases()
        if cases:
            case = self.rng.choice(cases)
            services.visit_log(user=self.regulator, case=case, visited_on=self.day(200),
                               mode=self.rng.choice(["on_site", "remote", "mobile_clinic"]),
                               hours=Decimal(self.rng.choice(["1.5", "2", "3.5"])), people_present="王建国")

    def move_visit(self):
        visits = list(Visit.objects.filter(case__campaign=self.campaign, case__status__in=["open", "diagnosing"]))
        if visits:
            visit = self.rng.choice(visits)
            services.visit_update(user=self.regulator, visit=visit, version=visit.version,
                                  visited_on=self.day(200), next_follow_up_on=None)

    def close(self):
        cases = self.open_cases()
        if cases:
            case = self.rng.choice(cases)
            services.case_close(user=self.regulator, case=case, resolution="unresolved", note="企业停产",
                                fulfilled_needs=[], lab_set_up=self.rng.random() < 0.5,
                                money_saved=Decimal(self.rng.randint(0, 90000)))

    def rate(self):
        case = AssistanceCase.objects.filter(campaign=self.campaign, status="closed", rating__isnull=True).first()
        if case:
            contact = case.enterprise.users.first()
            services.case_rate(user=contact, case=case, score=self.rng.randint(1, 5), comment="")

    def certify(self):
        firm, _contact = self.rng.choice(self.firms)
        registry.certification_add(user=self.admin, enterprise=firm, scheme=self.rng.choice(["iso9001", "haccp"]),
                                   number=f"CERT-{self.rng.randint(1, 10**9)}", body="CQC",
                                   issued_on=self.day(300), expires_on=TODAY + datetime.timedelta(days=900))

    def survey(self):
        firm, contact = self.rng.choice(self.firms)
        registry.survey_answer(user=contact, enterprise=firm, kind="follow_up", campaign=self.campaign,
                               awareness_improved=self.rng.random() < 0.8, performance_improved=True,
                               revenue_change_pct=Decimal(self.rng.randint(-5, 20)))

    def baseline(self):
        firm, contact = self.rng.choice(self.firms)
        registry.survey_answer(user=contact, enterprise=firm, kind="baseline", campaign=self.campaign,
                               services_wanted=self.rng.sample(self.areas, self.rng.randint(0, 3)))

    def designate(self):
        key_designation_create(user=self.admin, name=f"园区{self.rng.randint(1, 10**9)}",
                               region=Region.objects.get(code=self.rng.choice(COUNTIES)),
                               kind=self.rng.choice(["park", "product"]), designated_on=self.day(500))

    def withdraw(self):
        designations = list(KeyDesignation.objects.order_by("pk"))
        if designations:
            designation = self.rng.choice(designations)
            if self.rng.random() < 0.5:
                key_designation_remove(user=self.admin, designation=designation)
            else:
                designation.delete()  # in Django admin

    def train(self):
        firms = self.rng.sample(self.firms, 3)
        training_services.training_record(
            user=self.admin, campaign=self.campaign, region=Region.objects.get(code=self.rng.choice(COUNTIES)),
            topic="培训", held_on=self.day(300), organiser="市局",
            attendances=[(firm, self.rng.randint(1, 6), "") for firm, _contact in firms])

    def edit_firm(self):
        firm, _contact = self.rng.choice(self.firms)
        change = self.rng.choice(["region", "industry", "size", "is_key"])
        value = {"region": lambda: Region.objects.get(code=self.rng.choice(COUNTIES)),
                 "industry": lambda: self.rng.choice(self.divisions),
                 "size": lambda: self.rng.choice(["micro", "small", "medium"]),
                 "is_key": lambda: not firm.is_key}[change]()
        registry.enterprise_update(user=self.admin, enterprise=firm, **{change: value})

    def target(self):
        campaign_target_set(user=self.admin, campaign=self.campaign, metric="firms_assisted", scope="each_city",
                            value=self.rng.randint(1, 9))

    def keyed_target(self):
        metric, key = self.rng.choice([("surveyed_certified_share", "iso9001"), ("firms_certified", "haccp"),
                                       ("wanting_share", str(self.rng.choice(self.areas).code))])
        campaign_target_set(user=self.admin, campaign=self.campaign, metric=metric, key=key, scope="each_city",
                            value=self.rng.randint(1, 90))

    def delete(self):
        # What an administrator deletes in Django admin: a visit, a session, a certificate, a survey or
        # a whole case (its visits and ratings with it).
        rows = (list(Visit.objects.filter(case__campaign=self.campaign))
                + list(AssistanceCase.objects.filter(campaign=self.campaign))
                + list(TrainingSession.objects.filter(campaign=self.campaign))
                + list(Certification.objects.filter(enterprise__in=[firm for firm, _contact in self.firms]))
                + list(NeedsSurvey.objects.filter(campaign=self.campaign)))
        if rows:
            self.rng.choice(rows).delete()

    STEPS = ["need", "open_case", "visit", "visit", "visit", "move_visit", "close", "rate", "certify", "certify",
             "survey", "baseline", "baseline", "designate", "designate", "withdraw", "train", "edit_firm", "target",
             "keyed_target", "delete"]

    def step(self) -> str:
        name = self.rng.choice(self.STEPS)
        try:
            getattr(self, name)()
        except Exception as error:  # a refusal by the rules (ValidationError): nothing was written
            from django.core.exceptions import ValidationError

            if not isinstance(error, ValidationError):
                raise
        return name


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_updates_from_random_writes_leave_what_a_full_count_finds(seed, admin_user):
    world = World(seed, admin_user)
    steps = []
    for _ in range(50):
        steps.append(world.step())
        outbox.drain_all()  # a worker woken by the commit
    assert not OutboxEntry.objects.exists()
    updated = figures_of(world.campaign)
    cells = cells_of(world.campaign)
    result = engine.recount(world.campaign.pk, engine.Touched(everything=True))
    assert result.corrections == 0, steps
    assert figures_of(world.campaign) == updated
    assert cells_of(world.campaign) == cells


def test_updates_of_a_national_campaign_reach_the_country_and_leave_what_a_full_count_finds(admin_user):
    world = World(6, admin_user, region="000000")
    for _ in range(30):
        world.step()
        outbox.drain_all()
    updated = figures_of(world.campaign)
    result = engine.recount(world.campaign.pk, engine.Touched(everything=True))
    assert result.corrections == 0
    assert figures_of(world.campaign) == updated
    country, province = updated[("000000", "", "", "")], updated[("130000", "", "", "")]
    assert country["cases"] == province["cases"] > 0  # every firm is in Hebei


def test_a_case_deleted_in_admin_leaves_its_campaigns_figures(admin_user):
    world = World(8, admin_user)
    world.open_case()
    outbox.drain_all()
    total = {"campaign": world.campaign, "region_id": "130000", "period": "", "breakdown": "", "key": ""}
    assert KpiSnapshot.objects.get(**total).figures["cases"] == 1
    AssistanceCase.objects.get(campaign=world.campaign).delete()  # every source of figures is noted ("*")
    outbox.drain_all()
    assert KpiSnapshot.objects.get(**total).figures["cases"] == 0
    assert engine.recount(world.campaign.pk, engine.Touched(everything=True)).corrections == 0


def test_a_full_count_puts_right_and_counts_what_the_updates_missed(admin_user):
    world = World(7, admin_user)
    world.open_case()
    outbox.drain_all()
    # A visit written behind the services' back (a bulk load): no note, so no update.
    case = AssistanceCase.objects.filter(campaign=world.campaign).first()
    Visit.objects.create(case=case, visited_on=TODAY, hours=2, people_present="王", logged_by=world.regulator)
    outbox.drain_all()
    result = engine.recount(world.campaign.pk, engine.Touched(everything=True))
    assert result.corrections > 0
    assert KpiSnapshot.objects.get(campaign=world.campaign, region_id="130000", period="", breakdown="",
                                   key="").figures["visits"] == 1
    assert engine.recount(world.campaign.pk, engine.Touched(everything=True)).corrections == 0


def test_an_update_writes_only_the_rows_it_changes(admin_user):
    world = World(11, admin_user)
    for _ in range(15):
        world.step()
        outbox.drain_all()
    before = {row.pk: row.computed_at for row in KpiSnapshot.objects.filter(campaign=world.campaign)}
    case = world.open_cases()[0] if world.open_cases() else None
    if case is None:
        world.open_case()
        outbox.drain_all()
        case = world.open_cases()[0]
        before = {row.pk: row.computed_at for row in KpiSnapshot.objects.filter(campaign=world.campaign)}
    services.visit_log(user=world.regulator, case=case, visited_on=TODAY, mode="on_site", hours=2,
                       people_present="王建国")
    outbox.drain_all()
    after = {row.pk: row.computed_at for row in KpiSnapshot.objects.filter(campaign=world.campaign)}
    rewritten = {pk for pk, at in after.items() if before.get(pk) != at}
    regions = set(KpiSnapshot.objects.filter(pk__in=rewritten).values_list("region_id", flat=True))
    code = case.enterprise.region_id
    assert regions <= {code, code[:4] + "00", "130000"}
    assert len(rewritten) < len(after) / 4


def test_updates_reach_the_figures_per_scheme_service_area_and_designation(admin_user):
    """Each kind of write behind the new figures, drained as a worker would, then the full count: it
    has nothing to correct, and the figures it checked are not all zero."""
    world = World(5, admin_user)
    for step in ("baseline", "baseline", "survey", "certify", "certify", "designate", "designate", "keyed_target",
                 "withdraw", "designate", "edit_firm", "delete", "baseline", "certify"):
        getattr(world, step)()
        outbox.drain_all()
    updated = figures_of(world.campaign)
    assert engine.recount(world.campaign.pk, engine.Touched(everything=True)).corrections == 0
    assert figures_of(world.campaign) == updated
    province = updated[("130000", "", "", "")]
    assert province["baseline_surveys"] > 0 and province["firms_surveyed"] > 0
    assert any(key[2] == "service_area" and figures.get("firms_wanting") for key, figures in updated.items())


def test_a_campaign_never_counted_is_counted_in_full_whatever_its_first_recount_names(admin_user):
    engine.compute_campaign(CampaignFactory().pk)  # another campaign, counted and verified
    campaign = CampaignFactory()
    regulator = RegulatorFactory(region=Region.objects.get(code="130000"))
    firm = EnterpriseFactory(region=Region.objects.get(code="130102"))
    services.case_open(user=regulator, campaign=campaign, enterprise=firm, title="帮扶")
    result = engine.recount(campaign.pk, engine.Touched())  # names nothing: a first count counts everything
    total = KpiSnapshot.objects.get(campaign=campaign, region_id="130000", period="", breakdown="", key="")
    assert (total.figures["cases"], total.figures["firms_assisted"]) == (1, 1)
    assert result.corrections == 0  # there was nothing to correct


def test_a_campaign_whose_state_was_never_verified_is_counted_in_full(admin_user):
    # A state row without a full count behind it (as an upgrade that added the cells left them): the
    # next recount, whatever it names, counts everything, as the cells to add up do not exist yet.
    from campaigns.kpis.models import KpiState

    campaign = CampaignFactory()
    regulator = RegulatorFactory(region=Region.objects.get(code="130000"))
    services.case_open(user=regulator, campaign=campaign, title="帮扶",
                       enterprise=EnterpriseFactory(region=Region.objects.get(code="130102")))
    OutboxEntry.objects.all().delete()  # the update the case noted never ran
    KpiState.objects.create(campaign=campaign, verified_at=None)
    engine.recount(campaign.pk, engine.Touched())
    total = KpiSnapshot.objects.get(campaign=campaign, region_id="130000", period="", breakdown="", key="")
    assert total.figures["cases"] == 1
    assert KpiState.objects.get(campaign=campaign).verified_at is not None


def test_a_scheme_row_carries_the_share_of_the_side_it_has_firms_on_only(admin_user):
    campaign = CampaignFactory()
    surveyed, assisted = (EnterpriseFactory(region=Region.objects.get(code="130102")) for _ in range(2))
    contact = UserFactory()
    surveyed.users.add(contact)
    registry.survey_answer(user=contact, enterprise=surveyed, kind="baseline", campaign=campaign, services_wanted=[])
    registry.certification_add(user=admin_user, enterprise=surveyed, scheme="iso9001", number="ISO-1", body="CQC",
                               issued_on=TODAY - datetime.timedelta(days=30))
    regulator = RegulatorFactory(region=Region.objects.get(code="130000"))
    services.case_open(user=regulator, campaign=campaign, enterprise=assisted, title="帮扶")
    registry.certification_add(user=admin_user, enterprise=assisted, scheme="haccp", number="HACCP-1", body="CQC",
                               issued_on=TODAY - datetime.timedelta(days=10))
    engine.compute_campaign(campaign.pk)
    figures = figures_of(campaign)
    iso, haccp = figures[("130000", "", "scheme", "iso9001")], figures[("130000", "", "scheme", "haccp")]
    assert iso["surveyed_certified_share"] == 100.0 and "certified_share" not in iso
    assert haccp["certified_share"] == 100.0 and "surveyed_certified_share" not in haccp


def test_answers_nobody_gave_leave_their_sums_and_means_empty(admin_user):
    # A sum over values nobody gave is NULL in the database: it stays None, not a number, in the
    # cells, in the figures added up from them and in the means.
    campaign = CampaignFactory()
    firm = EnterpriseFactory(region=Region.objects.get(code="130102"))
    contact = UserFactory()
    firm.users.add(contact)
    engine.compute_campaign(campaign.pk)
    registry.survey_answer(user=contact, enterprise=firm, kind="follow_up", campaign=campaign,
                           awareness_improved=True, performance_improved=False)
    regulator = RegulatorFactory(region=Region.objects.get(code="130000"))
    case = services.case_open(user=regulator, campaign=campaign, enterprise=firm, title="帮扶")
    services.case_close(user=regulator, case=case, resolution="unresolved", note="企业停产")  # no money saved
    outbox.drain_all()
    total = KpiSnapshot.objects.get(campaign=campaign, region_id="130000", period="", breakdown="", key="").figures
    assert (total["surveys"], total["awareness_up_share"], total["revenue_change_mean"]) == (1, 100.0, None)
    # The cell keeps None (PostgreSQL adds such cells up to NULL, SQLite to 0); the case saved nothing.
    assert list(KpiCell.objects.filter(campaign=campaign, source="closed").values_list("values__money_saved",
                                                                                      flat=True)) == [None]
    assert (total["cases_closed"], total["money_saved"], total["money_saved_once"]) == (1, 0, 0)
    assert engine.recount(campaign.pk, engine.Touched(everything=True)).corrections == 0


@pytest.mark.parametrize("seed", [2, 9])
def test_updates_touching_more_regions_than_are_filtered_one_by_one_still_add_up_right(seed, admin_user, monkeypatch):
    # Past MAX_PREFIX_FILTERS regions at a level, an update reads every cell and keeps the wanted places.
    monkeypatch.setattr(engine, "MAX_PREFIX_FILTERS", 0)
    world = World(seed, admin_user)
    for _ in range(30):
        world.step()
        outbox.drain_all()
    updated = figures_of(world.campaign)
    assert engine.recount(world.campaign.pk, engine.Touched(everything=True)).corrections == 0
    assert figures_of(world.campaign) == updated


def test_a_full_count_counts_each_figure_it_puts_right_each_row_it_adds_and_each_it_removes(admin_user, caplog):
    world = World(7, admin_user)
    for step in ("open_case", "open_case", "visit", "visit", "certify", "baseline", "train"):
        getattr(world, step)()
        outbox.drain_all()
    # Written behind the services' back (a bulk load, an admin's SQL): nothing was noted, nothing
    # updated. Figures change, rows of a month with no data before appear, rows of a month left
    # without data go.
    case = AssistanceCase.objects.filter(campaign=world.campaign).first()
    Visit.objects.create(case=case, visited_on=TODAY, hours=2, people_present="王", logged_by=world.regulator)
    Visit.objects.filter(case__campaign=world.campaign).exclude(visited_on=TODAY).update(
        hours=7, visited_on=TODAY - datetime.timedelta(days=400))
    before = figures_of(world.campaign)
    with caplog.at_level("WARNING", logger="campaigns.kpis.engine"):
        result = engine.recount(world.campaign.pk, engine.Touched(everything=True))
    after = figures_of(world.campaign)
    assert caplog.messages == [f"KPI full count of campaign {world.campaign.pk} corrected {result.corrections} "
                               "figures"]
    put_right = sum(1 if key not in before or key not in after else
                    sum(1 for name in before[key].keys() | after[key].keys()
                        if before[key].get(name) != after[key].get(name))
                    for key in before.keys() | after.keys())
    assert result.corrections == put_right > 1
    assert before.keys() - after.keys() and after.keys() - before.keys()  # rows removed and rows added


def test_a_breakdown_row_left_without_data_is_removed(admin_user):
    world = World(12, admin_user)
    firm, _contact = world.firms[0]
    services.case_open(user=world.regulator, campaign=world.campaign, enterprise=firm, title="帮扶")
    registry.certification_add(user=admin_user, enterprise=firm, scheme="haccp", number="HACCP-9", body="CQC",
                               issued_on=TODAY - datetime.timedelta(days=5))
    outbox.drain_all()
    row = ("130000", "", "scheme", "haccp")
    assert figures_of(world.campaign)[row]["firms_certified"] == 1
    Certification.objects.get(number="HACCP-9").delete()  # in Django admin
    outbox.drain_all()
    assert row not in figures_of(world.campaign)


def test_a_target_set_after_the_count_reaches_the_figures_of_the_regions_it_names(admin_user):
    world = World(4, admin_user)
    campaign_target_set(user=admin_user, campaign=world.campaign, metric="firms_assisted", scope="each_city",
                        value=7)
    outbox.drain_all()
    figures = figures_of(world.campaign)
    assert figures[("130100", "", "", "")]["targets"] == {"firms_assisted": 7}
    assert figures[("130000", "", "", "")]["targets"] == {}  # a province is no city


def test_a_second_visit_in_the_same_county_and_month_is_added_to_its_cell(admin_user):
    world = World(13, admin_user)
    firm, _contact = world.firms[0]
    case = services.case_open(user=world.regulator, campaign=world.campaign, enterprise=firm, title="帮扶")
    outbox.drain_all()
    from campaigns.kpis.models import KpiState

    for hours in (2, 3):
        updated_before = KpiState.objects.get(campaign=world.campaign).updated_at
        services.visit_log(user=world.regulator, case=case, visited_on=TODAY, mode="on_site", hours=hours,
                           people_present="王建国")
        outbox.drain_all()
        # Rows written, none deleted: the figures say they were brought up to date just now.
        assert KpiState.objects.get(campaign=world.campaign).updated_at > updated_before
    [cell] = KpiCell.objects.filter(campaign=world.campaign, source="visits", breakdown="")
    assert (cell.values["visits"], cell.values["visit_hours"]) == (2, 50)  # hours kept in tenths
    total = figures_of(world.campaign)[("130000", "", "", "")]
    assert (total["visits"], total["visit_hours"]) == (2, 5.0)


def test_means_keep_two_decimals_and_month_rows_carry_no_certified_shares(admin_user):
    world = World(14, admin_user)
    firm, contact = world.firms[0]
    case = services.case_open(user=world.regulator, campaign=world.campaign, enterprise=firm, title="帮扶")
    case = services.case_close(user=world.regulator, case=case, resolution="unresolved", note="企业停产")
    services.case_rate(user=contact, case=case, score=4, comment="")
    for other_firm, other_contact in world.firms[1:3]:
        other = services.case_open(user=world.regulator, campaign=world.campaign, enterprise=other_firm, title="帮扶")
        other = services.case_close(user=world.regulator, case=other, resolution="unresolved", note="企业停产")
        services.case_rate(user=other_contact, case=other, score=4 if other_firm == world.firms[1][0] else 5,
                           comment="")
    outbox.drain_all()
    figures = figures_of(world.campaign)
    assert figures[("130000", "", "", "")]["satisfaction_mean"] == 4.33  # 13 / 3
    month = next(key for key in figures if key[0] == "130000" and key[1] and not key[2])
    assert "certified_share" not in figures[month] and "surveyed_certified_share" not in figures[month]
