"""Demo accounts of every role, shaped like the campaigns of DESIGN.md section 1.

Deterministic and idempotent: running it again finds the same accounts and adds nothing.
"""

from dataclasses import dataclass

from django.db import transaction

from portal.models import Region, User

DEMO_PASSWORD = "demo-2026"

Role = User.Role


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    role: str
    region: str | None
    organisation: str


ACCOUNTS = [
    DemoAccount("admin", "系统管理员", Role.ADMINISTRATOR, None, "门户运维"),
    DemoAccount("national_supervisor", "林国华", Role.SUPERVISOR, "000000", "国家市场监督管理总局"),
    DemoAccount("national_regulator", "郑晓明", Role.REGULATOR, "000000", "国家市场监督管理总局"),
    DemoAccount("hebei_supervisor", "赵立新", Role.SUPERVISOR, "130000", "河北省市场监督管理局"),
    DemoAccount("anhui_supervisor", "孙静", Role.SUPERVISOR, "340000", "安徽省市场监督管理局"),
    DemoAccount("sjz_regulator", "王建国", Role.REGULATOR, "130100", "石家庄市市场监督管理局"),
    DemoAccount("sjz_regulator2", "李娜", Role.REGULATOR, "130100", "石家庄市市场监督管理局"),
    DemoAccount("changan_regulator", "刘洋", Role.REGULATOR, "130102", "石家庄市长安区市场监督管理局"),
    DemoAccount("ts_regulator", "张伟", Role.REGULATOR, "130200", "唐山市市场监督管理局"),
    DemoAccount("dg_regulator", "陈志强", Role.REGULATOR, "441900", "东莞市市场监督管理局"),
    DemoAccount("hf_regulator", "周敏", Role.REGULATOR, "340100", "合肥市市场监督管理局"),
    DemoAccount("expert_wang", "王海燕", Role.EXPERT, None, "河北省计量监督检测研究院"),
    DemoAccount("expert_zhao", "赵明", Role.EXPERT, None, "中国质量认证中心石家庄分中心"),
    DemoAccount("sme_hengtai", "杨春华", Role.SME, None, "石家庄恒泰食品有限公司"),
    DemoAccount("sme_dongguan", "黄家明", Role.SME, None, "东莞市精益五金制品有限公司"),
    DemoAccount("sme_newcomer", "何晓东", Role.SME, None, ""),
]

# Office lines and mail of the bureau staff, so a firm sees whom to call on its case page.
CONTACTS = {
    "sjz_regulator": ("0311-87651201", "wangjianguo@sjz-amr.example.cn"),
    "sjz_regulator2": ("0311-87651202", "lina@sjz-amr.example.cn"),
    "changan_regulator": ("0311-86041105", "liuyang@ca-amr.example.cn"),
    "ts_regulator": ("0315-28173306", "zhangwei@ts-amr.example.cn"),
    "dg_regulator": ("0769-22831107", "chenzhiqiang@dg-amr.example.cn"),
    "hf_regulator": ("0551-62651108", "zhoumin@hf-amr.example.cn"),
    "expert_wang": ("13831100217", "wanghaiyan@hbjl.example.cn"),
    "expert_zhao": ("13931100358", "zhaoming@cqc-sjz.example.cn"),
}


@transaction.atomic
def seed_accounts() -> list[User]:
    users = []
    for account in ACCOUNTS:
        user, created = User.objects.get_or_create(
            username=account.username,
            defaults={
                "full_name": account.full_name,
                "role": account.role,
                "region": Region.objects.get(code=account.region) if account.region else None,
                "organisation": account.organisation,
                "phone": CONTACTS.get(account.username, ("", ""))[0],
                "email": CONTACTS.get(account.username, ("", ""))[1],
                "is_staff": account.role == Role.ADMINISTRATOR,
                "is_superuser": account.role == Role.ADMINISTRATOR,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.full_clean()
            user.save()
        users.append(user)
    return users
