"""Demo notifications: most come from the demo's own writes through the services (cases opened,
visits logged, experts assigned, cases closed); this adds a need of 恒泰 declined with its reason,
and runs today's reminders and this week's pace check, so every demo role has unread notices."""

from django.db import transaction

from campaigns.cases.reminders import reminders_send
from campaigns.kpis.pace import kpi_pace_check
from enterprises.models import NeedRequest
from enterprises.services import need_decline, need_submit
from portal.models import ServiceArea, User

DECLINED_TITLE = "食品标签合规咨询"


@transaction.atomic
def seed_notifications() -> int:
    """Idempotent: the declined need is made once, and the reminders' keys add nothing on a rerun."""
    hengtai = User.objects.filter(username="sme_hengtai").first()
    regulator = User.objects.filter(username="sjz_regulator").first()
    firm = hengtai.enterprises.first() if hengtai else None
    if firm is not None and regulator is not None and not NeedRequest.objects.filter(title=DECLINED_TITLE).exists():
        need = need_submit(user=hengtai, enterprise=firm, service_area=ServiceArea.objects.get(code=7),
                           title=DECLINED_TITLE, description="新版预包装食品标签通则实施，需要逐项核对标签。")
        need_decline(user=regulator, need=need,
                     reason="本月 20 日在长安区举办食品标签集中培训（质量流动诊所），请报名参加。")
    return sum(reminders_send().values()) + kpi_pace_check()
