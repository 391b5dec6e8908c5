"""factory_boy factories producing valid credit codes and real region codes."""

import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from enterprises.models import Enterprise
from enterprises.uscc import generate_uscc
from portal.models import Industry, Region, ServiceArea, Specialty, User


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Faker("name", locale="zh_CN")
    role = User.Role.SME
    password = factory.django.Password("pw")


class RegulatorFactory(UserFactory):
    role = User.Role.REGULATOR
    region = factory.LazyFunction(lambda: Region.objects.get(code="130100"))


class SupervisorFactory(UserFactory):
    role = User.Role.SUPERVISOR
    region = factory.LazyFunction(lambda: Region.objects.get(code="130000"))


class EnterpriseFactory(DjangoModelFactory):
    """A firm in Shijiazhuang's 长安区 unless told otherwise; its code names its region."""

    class Meta:
        model = Enterprise

    region = factory.LazyFunction(lambda: Region.objects.get(code="130102"))
    uscc = factory.LazyAttribute(lambda firm: generate_uscc(firm.region.code))
    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    industry = factory.LazyFunction(lambda: Industry.objects.get(code="13"))
    size = Enterprise.Size.SMALL


class CampaignFactory(DjangoModelFactory):
    """A Hebei province campaign running from a year ago to a year ahead."""

    class Meta:
        model = "campaigns.Campaign"

    name = factory.Sequence(lambda n: f"质量提升行动{n}")
    organiser = "河北省市场监督管理局"
    region = factory.LazyFunction(lambda: Region.objects.get(code="130000"))
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=365))
    ends_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=365))


class ExpertFactory(DjangoModelFactory):
    """An active expert of the Shijiazhuang pool serving the city, in quality management and metrology."""

    class Meta:
        model = "experts.Expert"
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"130100-{n:04d}")
    name = factory.Faker("name", locale="zh_CN")
    employer = "河北省计量监督检测研究院"
    employer_kind = "metrology"
    region = factory.LazyFunction(lambda: Region.objects.get(code="130100"))
    capacity = 3

    @factory.post_generation
    def specialties(self, create, extracted, **kwargs):
        if create:
            self.specialties.set(extracted if extracted is not None else Specialty.objects.filter(
                code__in=["quality-management", "metrology"]))

    @factory.post_generation
    def regions_served(self, create, extracted, **kwargs):
        if create:
            self.regions_served.set(extracted if extracted is not None else [self.region])


def sample_file_content(name: str) -> bytes:
    """A few bytes that really are the kind of file `name` says (attachments are checked by content)."""
    import io
    import zipfile
    from pathlib import PurePath

    suffix = PurePath(name).suffix.lower()
    if suffix in (".jpg", ".jpeg"):
        return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
    if suffix == ".png":
        return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
    if suffix in (".docx", ".xlsx"):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("[Content_Types].xml", "<Types/>")
        return buffer.getvalue()
    if suffix in (".doc", ".xls"):
        return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 32
    if suffix == ".txt":
        return "现场记录".encode()
    return b"%PDF-1.4 test report"


class NeedFactory(DjangoModelFactory):
    """A need for metrology (service area 2) submitted by a firm in Shijiazhuang's 长安区."""

    class Meta:
        model = "enterprises.NeedRequest"

    enterprise = factory.SubFactory(EnterpriseFactory)
    service_area = factory.LazyFunction(lambda: ServiceArea.objects.get(code=2))
    title = factory.Sequence(lambda n: f"计量器具校准{n}")
    description = "十台压力表需要校准。"
    submitted_by = factory.SubFactory(UserFactory)


class CaseFactory(DjangoModelFactory):
    """An open one-to-one case of a firm in the Hebei campaign, led by a Shijiazhuang regulator.

    Rows only: what the services do around an opening (needs accepted, events, audit, KPI notes) is
    left out; open cases through `campaigns.cases.services.case_open` where that matters."""

    class Meta:
        model = "campaigns.AssistanceCase"

    campaign = factory.SubFactory(CampaignFactory)
    enterprise = factory.SubFactory(EnterpriseFactory)
    title = factory.Sequence(lambda n: f"一对一帮扶{n}")
    lead = factory.SubFactory(RegulatorFactory)
    opened_by = factory.SelfAttribute("lead")


class VisitFactory(DjangoModelFactory):
    """A two-hour on-site visit yesterday, logged by the case's lead (rows only, as CaseFactory)."""

    class Meta:
        model = "campaigns.Visit"

    case = factory.SubFactory(CaseFactory)
    visited_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=1))
    mode = "on_site"
    hours = 2
    people_present = "王建国、企业质量主管"
    logged_by = factory.SelfAttribute("case.lead")


def region(code: str) -> Region:
    """The region of a GB/T 2260 code (loaded by the migrations)."""
    return Region.objects.get(code=code)
