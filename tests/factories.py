"""factory_boy factories producing valid credit codes and real region codes."""

import factory
from factory.django import DjangoModelFactory

from enterprises.models import Enterprise
from enterprises.uscc import generate_uscc
from portal.models import Industry, Region, User


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
