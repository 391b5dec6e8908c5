"""Importing a campaign's cases with their visits and outcomes (补录), CSV or XLSX.

For records kept on paper or in a spreadsheet, typed in after the fact: a row per visit (or a row
per case without a visit), the rows of one firm making one case:

    统一社会信用代码 (required) · 企业名称 (read by people) · 立案日期 (required) · 案件名称 ·
    走访日期 · 走访方式 (现场 / 远程 / 流动诊所) · 走访时长 · 参加人员 · 发现问题 ·
    结案日期 · 结案结果 (已解决 / 未解决) · 获得认证 · 制定标准 · 导入卓越绩效 · 建立实验室 ·
    节约金额 · 节约周期 (一次性 / 每年)

Every row is checked first and if any is bad the report lists each problem with its line, column
and reason, and nothing is written. Otherwise every case, visit and audit entry is written in one
transaction with a handful of bulk statements, and one outbox note names the region codes whose
figures the KPI worker is to recount: nothing is recounted while the uploader waits.

Importing the same file again adds nothing: a case is the firm's case in the campaign opened on
that day, a visit one on that case with the same day, mode and hours; what is already there is
kept (its outcomes are brought up to the file's).
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.cases.models import AssistanceCase, CaseEvent, Visit
from campaigns.figures import figures_changed
from campaigns.models import Campaign
from campaigns.services import check_open_for_entry, locked_campaign
from campaigns.training.selectors import firms_by_code
from enterprises.importing import clean_uscc
from portal.dates import day_moment
from portal.imports import report as shared_report
from portal.imports.cells import date_cell, decimal_cell, within, yes_no_cell
from portal.imports.headers import Column, HeaderMap
from portal.imports.reading import CellProblem, cell_text
from portal.imports.report import CELL_MESSAGES, FILE_MESSAGES, ImportReport, read_and_check
from portal.models import AuditEntry, User

Status = AssistanceCase.Status
MAX_ROWS = 100_000
COLUMNS = (
    Column("uscc", "统一社会信用代码", True, ("信用代码", "社会信用代码", "credit_code")),
    Column("enterprise", "企业名称", aliases=("单位名称", "名称", "enterprise_name")),
    Column("opened_on", "立案日期", True, ("帮扶开始日期", "开始日期", "opened")),
    Column("title", "案件名称", aliases=("帮扶项目", "项目名称")),
    Column("visited_on", "走访日期", aliases=("帮扶日期", "visit_date")),
    Column("mode", "走访方式", aliases=("帮扶方式", "visit_mode")),
    Column("hours", "走访时长", aliases=("时长", "小时", "visit_hours")),
    Column("people_present", "参加人员", aliases=("走访人员", "people")),
    Column("problems_found", "发现问题", aliases=("问题", "problems")),
    Column("closed_on", "结案日期", aliases=("结束日期", "closed")),
    Column("resolution", "结案结果", aliases=("结果",)),
    Column("certificate_obtained", "获得认证", aliases=("获证", "certificate")),
    Column("standard_drafted", "制定标准", aliases=("standard",)),
    Column("excellence_model_adopted", "导入卓越绩效", aliases=("卓越绩效", "excellence_model")),
    Column("lab_set_up", "建立实验室", aliases=("建立计量实验室", "lab")),
    Column("money_saved", "节约金额", aliases=("节约资金", "节约金额(元)", "节约金额（元）")),
    Column("money_saved_period", "节约周期", aliases=("节约金额周期", "money_saved_period")),
)
COLUMN_ORDER = {column.key: position for position, column in enumerate(COLUMNS)}
KEPT_FIELDS = ["certificate_obtained", "standard_drafted", "excellence_model_adopted", "lab_set_up", "money_saved",
               "money_saved_period", "status", "resolution", "closed_at", "last_visit_on", "next_follow_up_on"]
CASE_FIELDS = ("opened_on", "title", "closed_on", "resolution", "certificate_obtained", "standard_drafted",
               "excellence_model_adopted", "lab_set_up", "money_saved", "money_saved_period")
OUTCOMES = ("certificate_obtained", "standard_drafted", "excellence_model_adopted", "lab_set_up", "money_saved",
            "money_saved_period")
MODES = {"现场": Visit.Mode.ON_SITE, "上门": Visit.Mode.ON_SITE, "远程": Visit.Mode.REMOTE, "线上": Visit.Mode.REMOTE,
         "电话": Visit.Mode.REMOTE, "流动诊所": Visit.Mode.MOBILE_CLINIC, "质量流动诊所": Visit.Mode.MOBILE_CLINIC,
         **{mode: mode for mode in Visit.Mode.values}}
RESOLUTIONS = {"已解决": "resolved", "解决": "resolved", "未解决": "unresolved", **{r: r for r in
                                                                              AssistanceCase.Resolution.values}}
PERIODS = {"一次性": "once", "每年": "per_year", "年": "per_year", "once": "once", "per_year": "per_year"}
MESSAGES = {
    **FILE_MESSAGES,
    **{code: CELL_MESSAGES[code] for code in ("uscc_required", "uscc_length", "uscc_character", "uscc_check",
                                              "too_long", "boolean_invalid", "date_required", "date_invalid",
                                              "number_invalid")},
    "xlsx_inflated": _("The workbook would expand to more than %(limit)d MB; save only the case list in it."),
    "no_rows": _("The file has a header row but no case on it."),
    "firm_unknown": _("No enterprise with this credit code is in the registry: correct the code, or register the "
                      "enterprise first."),
    "firm_outside": _("This enterprise is registered outside your jurisdiction."),
    "firm_not_covered": _("The campaign does not cover this enterprise's region."),
    "outside_period": _("%(value)s lies outside the campaign's period (%(start)s to %(end)s)."),
    "future": _("%(value)s is in the future."),
    "before_opening": _("%(value)s comes before the case opened (%(opened)s)."),
    "after_closing": _("%(value)s comes after the case closed (%(closed)s)."),
    "mode_invalid": _("%(value)s is not a way of visiting; use 现场, 远程 or 流动诊所."),
    "resolution_invalid": _("%(value)s is not a result; use 已解决 or 未解决."),
    "resolution_required": _("A closed case needs its result: 已解决 or 未解决."),
    "period_invalid": _("%(value)s is not a period of money saved; use 一次性 or 每年."),
    "case_conflict": _("This enterprise's case reads %(value)s here but %(other)s on line %(line)d; the rows of one "
                       "case must agree."),
    "open_case_exists": _("This enterprise already has an open case in this campaign, opened on another day."),
}


def problem_message(problem: dict) -> str:
    return shared_report.problem_message(problem, MESSAGES)


@dataclass
class CaseRow:
    """The rows of one firm, checked: the case and its visits."""

    line: int
    enterprise: Any
    values: dict
    lines: dict = field(default_factory=dict)  # case field → the line its value came from
    visits: list[dict] = field(default_factory=list)


class CaseChecker:
    def __init__(self, *, header: HeaderMap, user: User, campaign: Campaign):
        self.header, self.user, self.campaign = header, user, campaign
        self.today = timezone.localdate()

    def cell(self, cells: Sequence[Any], key: str) -> Any:
        position = self.header.index.get(key)
        return None if position is None or position >= len(cells) else cells[position]

    def problem(self, line: int, key: str, code: str, params: dict | None = None) -> dict:
        return {"line": line, "column": self.header.column_name(key), "code": code,
                "params": {k: str(v) for k, v in (params or {}).items()}, "order": COLUMN_ORDER[key]}

    def in_period(self, day: date) -> tuple[str, dict] | None:
        if day > self.today:
            return "future", {"value": day}
        if not self.campaign.is_running_on(day):
            return "outside_period", {"value": day, "start": self.campaign.starts_on, "end": self.campaign.ends_on}
        return None

    def parse(self, line: int, cells: Sequence[Any]) -> tuple[dict, list[dict]]:
        values, problems = {}, []
        readers = {
            "uscc": clean_uscc,
            "opened_on": lambda raw: date_cell(raw, required=True),
            "title": lambda raw: within(cell_text(raw), 120),
            "visited_on": date_cell,
            "mode": lambda raw: self.choice(raw, MODES, "mode_invalid"),
            "hours": lambda raw: decimal_cell(raw, low=Decimal("0.5"), high=Decimal(24), places=1),
            "people_present": cell_text,
            "problems_found": cell_text,
            "closed_on": date_cell,
            "resolution": lambda raw: self.choice(raw, RESOLUTIONS, "resolution_invalid"),
            "money_saved": lambda raw: decimal_cell(raw, low=Decimal(0), high=Decimal("999999999999")),
            "money_saved_period": lambda raw: self.choice(raw, PERIODS, "period_invalid"),
            **{key: lambda raw: yes_no_cell(raw, blank=None) for key in OUTCOMES[:4]},
        }
        for key, read in readers.items():
            try:
                values[key] = read(self.cell(cells, key))
            except CellProblem as problem:
                problems.append(self.problem(line, key, problem.code, problem.params))
        if problems:
            return values, problems
        for key in ("opened_on", "visited_on"):
            found = self.in_period(values[key]) if values[key] else None
            if found:
                problems.append(self.problem(line, key, *found))
        if values["closed_on"] and values["closed_on"] > self.today:
            problems.append(self.problem(line, "closed_on", "future", {"value": values["closed_on"]}))
        if values["visited_on"] and values["visited_on"] < values["opened_on"]:
            problems.append(self.problem(line, "visited_on", "before_opening",
                                         {"value": values["visited_on"], "opened": values["opened_on"]}))
        if values["closed_on"]:
            if values["closed_on"] < values["opened_on"]:
                problems.append(self.problem(line, "closed_on", "before_opening",
                                             {"value": values["closed_on"], "opened": values["opened_on"]}))
            if values["visited_on"] and values["visited_on"] > values["closed_on"]:
                problems.append(self.problem(line, "visited_on", "after_closing",
                                             {"value": values["visited_on"], "closed": values["closed_on"]}))
            if not values["resolution"]:
                problems.append(self.problem(line, "resolution", "resolution_required"))
        return values, problems

    @staticmethod
    def choice(raw: Any, words: dict, code: str) -> str:
        text = cell_text(raw)
        if not text:
            return ""
        if text.lower() not in words and text not in words:
            raise CellProblem(code, value=text)
        return words.get(text.lower(), words.get(text))

    def check(self, rows: list[tuple[int, Sequence[Any]]]) -> tuple[list[CaseRow], list[dict]]:
        """The cases grouped by firm, in the order of first appearance, and every problem."""
        parsed, problems = [], []
        for line, cells in rows:
            values, row_problems = self.parse(line, cells)
            problems.extend(row_problems)
            if not row_problems:
                parsed.append((line, values))
        firms = firms_by_code(self.user, (values["uscc"] for _line, values in parsed))
        cases: dict[str, CaseRow] = {}
        for line, values in parsed:
            code = values["uscc"]
            if code in firms.outside:
                problems.append(self.problem(line, "uscc", "firm_outside"))
                continue
            if firms.unknown(code):
                problems.append(self.problem(line, "uscc", "firm_unknown"))
                continue
            firm = firms.visible[code]
            if not self.campaign.covers(firm.region_id):
                problems.append(self.problem(line, "uscc", "firm_not_covered"))
                continue
            case = cases.setdefault(code, CaseRow(line=line, enterprise=firm, values={}))
            for key in CASE_FIELDS:
                value = values[key]
                if value in ("", None):
                    continue
                if key in case.values and case.values[key] != value:
                    problems.append(self.problem(line, key, "case_conflict", {
                        "value": value, "other": case.values[key], "line": case.lines[key]}))
                elif key not in case.values:
                    case.values[key], case.lines[key] = value, line
            if values["visited_on"]:
                case.visits.append({"line": line, "visited_on": values["visited_on"],
                                    "mode": values["mode"] or Visit.Mode.ON_SITE, "hours": values["hours"] or 1,
                                    "people_present": values["people_present"] or "—",
                                    "problems_found": values["problems_found"]})
        problems.sort(key=lambda problem: (problem["line"], problem["order"]))
        return list(cases.values()), problems


@dataclass
class CaseImportReport(ImportReport):
    cases_created: int = 0
    cases_kept: int = 0
    visits_created: int = 0


def case_import(*, user: User, campaign: Campaign, upload: UploadedFile, lead: User | None = None,
                checked: Callable[[int], None] | None = None,
                reading: Callable[[int], None] | None = None) -> CaseImportReport:
    """Check every row of a case list; write all of it in one transaction, or nothing.

    Regulators import into campaigns they may see, as the cases' lead; administrators name the
    lead regulator. A whole-file problem raises ValidationError on "file". A background job follows
    its progress: `reading(rows)` while the file is read, `checked(rows)` when every row passed,
    before the writing starts.
    """
    lead = lead or (user if user.is_regulator else None)
    if not (user.is_administrator or user.is_regulator):
        raise PermissionDenied
    if lead is None or not lead.is_regulator:
        raise ValidationError({"lead": _("Choose the lead regulator of the imported cases.")})
    check_open_for_entry(campaign)
    report = CaseImportReport(file_name=PurePath(upload.name or "").name, messages=MESSAGES)
    def check(header, rows):
        return CaseChecker(header=header, user=user, campaign=campaign).check(rows)

    cases = read_and_check(upload, COLUMNS, MAX_ROWS, report, check, reading=reading, checked=checked)
    if cases is None:
        return report
    with transaction.atomic():
        campaign = locked_campaign(campaign)
        check_open_for_entry(campaign)
        problems = write_cases(campaign, cases, user=user, lead=lead, report=report)
        if problems:
            report.problems = problems
            transaction.set_rollback(True)
            report.cases_created = report.cases_kept = report.visits_created = 0
            return report
        # One note naming the region codes the cases are filed under; the worker recounts them.
        figures_changed(campaign.pk, ["cases", "closed", "visits", "answered", "certified"],
                        [(code, None) for code in {row.enterprise.region_id for row in cases}])
    return report


def write_cases(campaign: Campaign, rows: list[CaseRow], *, user: User, lead: User,
                report: CaseImportReport) -> list[dict]:
    """The cases and visits of checked rows, in bulk; the problems met against what is stored."""
    existing = {(case.enterprise_id, timezone.localdate(case.opened_at)): case
                for case in AssistanceCase.objects.select_for_update().filter(
                    campaign=campaign, enterprise__in=[row.enterprise for row in rows])}
    open_elsewhere = {firm for (firm, _day), case in existing.items() if not case.is_closed}
    now, new_cases, kept, problems = timezone.now(), [], [], []
    for row in rows:
        values = row.values
        case = existing.get((row.enterprise.pk, values["opened_on"]))
        if case is None:
            if row.enterprise.pk in open_elsewhere and not values.get("closed_on"):
                problems.append({"line": row.line, "column": COLUMNS[0].header, "code": "open_case_exists",
                                 "params": {}, "order": 0})
                continue
            case = AssistanceCase(campaign=campaign, enterprise=row.enterprise, lead=lead, opened_by=user,
                                  title=values.get("title") or str(_("One-to-one assistance")),
                                  opened_at=day_moment(values["opened_on"]), entered_at=now)
            new_cases.append((row, case))
            close(case, row)
        else:
            before = [getattr(case, name) for name in KEPT_FIELDS]
            close(case, row)
            kept.append((row, case, before != [getattr(case, name) for name in KEPT_FIELDS]))
    if problems:
        return problems
    AssistanceCase.objects.bulk_create([case for _row, case in new_cases], batch_size=1000)
    # A kept case is written again only when the file changes it: a second import writes nothing.
    AssistanceCase.objects.bulk_update([case for _row, case, changed in kept if changed], KEPT_FIELDS,
                                       batch_size=1000)
    kept = [(row, case) for row, case, _changed in kept]
    known = defaultdict(set)
    for visit in Visit.objects.filter(case__in=[case for _row, case in kept]).values_list(
            "case_id", "visited_on", "mode", "hours"):
        known[visit[0]].add(visit[1:])
    visits = [Visit(case=case, logged_by=user, **{k: v for k, v in visit.items() if k != "line"})
              for row, case in [*new_cases, *kept] for visit in row.visits
              if (visit["visited_on"], visit["mode"], visit["hours"]) not in known[case.pk]]
    Visit.objects.bulk_create(visits, batch_size=1000)
    events = [CaseEvent(case=case, from_status="", to_status=Status.OPEN, actor=user, at=case.opened_at)
              for _row, case in new_cases]
    events += [CaseEvent(case=case, from_status=Status.IN_PROGRESS, to_status=Status.CLOSED, actor=user,
                         at=case.closed_at) for _row, case in new_cases if case.is_closed]
    CaseEvent.objects.bulk_create(events, batch_size=1000)
    content_type = ContentType.objects.get_for_model(AssistanceCase)
    AuditEntry.objects.bulk_create([
        AuditEntry(content_type=content_type, object_id=str(case.pk), object_repr=str(case)[:200],
                   region_code=case.enterprise.region_id, action=AuditEntry.Action.IMPORT, actor=user, at=now,
                   note=str(_("Imported from %(file)s, line %(line)d")) % {"file": report.file_name, "line": row.line})
        for row, case in new_cases], batch_size=1000)
    report.cases_created, report.cases_kept, report.visits_created = len(new_cases), len(kept), len(visits)
    return []


def close(case: AssistanceCase, row: CaseRow) -> None:
    """The file's outcomes, closing and last visit on the case (new or kept)."""
    values = row.values
    for key in OUTCOMES:
        if key in values:
            setattr(case, key, values[key])
    visited = [visit["visited_on"] for visit in row.visits]
    if visited:
        case.last_visit_on = max([case.last_visit_on or visited[0], *visited])
    if values.get("closed_on") and not case.is_closed:
        case.status, case.resolution = Status.CLOSED, values["resolution"]
        case.closed_at, case.next_follow_up_on = day_moment(values["closed_on"]), None
    elif not case.is_closed and visited:
        case.status = Status.IN_PROGRESS


def template_csv() -> bytes:
    return shared_report.template_csv(COLUMNS)
