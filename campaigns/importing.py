"""Importing a campaign's survey answers (需求调查), baseline and follow-up, CSV or XLSX.

A national survey arrives as a spreadsheet, a row per firm and survey:

    统一社会信用代码 (required) · 企业名称 (read by people) · 问卷类型 (基线 / 跟踪, required) ·
    填报日期 (required) · 需要的服务 (service-area numbers, e.g. 2、8) · 质量意识提高 · 质量绩效提高 ·
    营业收入变化(%) · 产值变化(%) · 利润率变化(%) · 意见建议

Every row is checked first; if any is bad the report lists each problem with its line, column and
reason, and nothing is written. Otherwise the answers are written in one transaction with bulk
statements and one outbox note names the region codes whose figures the KPI worker is to recount.

Importing the same file again adds nothing: an answer is the firm's survey of that kind for the
campaign answered on that day; one already kept takes the file's answers.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.figures import figures_changed
from campaigns.models import Campaign
from campaigns.services import check_open_for_entry, locked_campaign
from campaigns.training.selectors import firms_by_code
from enterprises.importing import clean_uscc
from enterprises.models import NeedsSurvey
from portal.dates import day_moment
from portal.imports import report as shared_report
from portal.imports.cells import date_cell, decimal_cell, yes_no_cell
from portal.imports.headers import Column, HeaderMap
from portal.imports.reading import CellProblem, cell_text
from portal.imports.report import CELL_MESSAGES, FILE_MESSAGES, ImportReport, read_and_check
from portal.kpi_notes import SURVEY_SOURCES
from portal.models import ServiceArea, User

Kind = NeedsSurvey.Kind
MAX_ROWS = 100_000
COLUMNS = (
    Column("uscc", "统一社会信用代码", True, ("信用代码", "社会信用代码", "credit_code")),
    Column("enterprise", "企业名称", aliases=("单位名称", "名称", "enterprise_name")),
    Column("kind", "问卷类型", True, ("调查类型", "类型", "survey")),
    Column("answered_on", "填报日期", True, ("调查日期", "日期", "answered")),
    Column("services_wanted", "需要的服务", aliases=("服务需求", "需求服务领域", "services")),
    Column("awareness_improved", "质量意识提高", aliases=("质量意识", "awareness")),
    Column("performance_improved", "质量绩效提高", aliases=("质量绩效", "performance")),
    Column("revenue_change_pct", "营业收入变化(%)", aliases=("营业收入变化", "营收变化", "revenue_change")),
    Column("output_change_pct", "产值变化(%)", aliases=("产值变化", "output_change")),
    Column("profit_margin_change_pct", "利润率变化(%)", aliases=("利润率变化", "margin_change")),
    Column("comments", "意见建议", aliases=("备注", "comments")),
)
COLUMN_ORDER = {column.key: position for position, column in enumerate(COLUMNS)}
KINDS = {"基线": Kind.BASELINE, "基线调查": Kind.BASELINE, "帮扶前": Kind.BASELINE, "跟踪": Kind.FOLLOW_UP,
         "跟踪调查": Kind.FOLLOW_UP, "回访": Kind.FOLLOW_UP, "帮扶后": Kind.FOLLOW_UP, "follow-up": Kind.FOLLOW_UP,
         **{kind: kind for kind in Kind.values}}
OUTCOMES = ("awareness_improved", "performance_improved", "revenue_change_pct", "output_change_pct",
            "profit_margin_change_pct")
PERCENT = {"low": Decimal("-9999.99"), "high": Decimal("9999.99")}
MESSAGES = {
    **FILE_MESSAGES,
    **{code: CELL_MESSAGES[code] for code in ("uscc_required", "uscc_length", "uscc_character", "uscc_check",
                                              "boolean_invalid", "date_required", "date_invalid",
                                              "number_invalid")},
    "xlsx_inflated": _("The workbook would expand to more than %(limit)d MB; save only the answers in it."),
    "no_rows": _("The file has a header row but no answers on it."),
    "firm_unknown": _("No enterprise with this credit code is in the registry: correct the code, or register the "
                      "enterprise first."),
    "firm_outside": _("This enterprise is registered outside your jurisdiction."),
    "firm_not_covered": _("The campaign does not cover this enterprise's region."),
    "kind_invalid": _("%(value)s is not a survey; use 基线 (baseline) or 跟踪 (follow-up)."),
    "future": _("%(value)s is in the future."),
    "before_campaign": _("%(value)s comes before the campaign started (%(start)s)."),
    "area_unknown": _("%(value)s is not a service area; use their numbers, 1 to 10."),
    "follow_up_answer": _("A follow-up survey needs this answer (是 or 否)."),
    "baseline_outcome": _("A baseline survey has no outcome answers; leave this empty."),
    "duplicate_row": _("The same survey of this enterprise on this day is on line %(line)d too."),
}


def problem_message(problem: dict) -> str:
    return shared_report.problem_message(problem, MESSAGES)


class SurveyChecker:
    def __init__(self, *, header: HeaderMap, user: User, campaign: Campaign):
        self.header, self.user, self.campaign = header, user, campaign
        self.today = timezone.localdate()
        self.areas = {str(area.code): area for area in ServiceArea.objects.all()}

    def cell(self, cells: Sequence[Any], key: str) -> Any:
        position = self.header.index.get(key)
        return None if position is None or position >= len(cells) else cells[position]

    def problem(self, line: int, key: str, code: str, params: dict | None = None) -> dict:
        return {"line": line, "column": self.header.column_name(key), "code": code,
                "params": {k: str(v) for k, v in (params or {}).items()}, "order": COLUMN_ORDER[key]}

    def kind(self, raw: Any) -> str:
        text = cell_text(raw)
        if text.lower() not in KINDS and text not in KINDS:
            raise CellProblem("kind_invalid", value=text)
        return KINDS.get(text.lower(), KINDS.get(text))

    def services(self, raw: Any) -> list[ServiceArea]:
        parts = [part for part in cell_text(raw).replace("，", ",").replace("、", ",").replace(";", ",").split(",")
                 if part.strip()]
        unknown = [part.strip() for part in parts if part.strip() not in self.areas]
        if unknown:
            raise CellProblem("area_unknown", value="、".join(unknown))
        return list(dict.fromkeys(self.areas[part.strip()] for part in parts))

    def parse(self, line: int, cells: Sequence[Any]) -> tuple[dict, list[dict]]:
        values, problems = {}, []
        readers = {
            "uscc": clean_uscc, "kind": self.kind, "answered_on": lambda raw: date_cell(raw, required=True),
            "services_wanted": self.services, "comments": cell_text,
            "awareness_improved": lambda raw: yes_no_cell(raw, blank=None),
            "performance_improved": lambda raw: yes_no_cell(raw, blank=None),
            **{key: lambda raw: decimal_cell(raw, **PERCENT) for key in OUTCOMES[2:]},
        }
        for key, read in readers.items():
            try:
                values[key] = read(self.cell(cells, key))
            except CellProblem as problem:
                problems.append(self.problem(line, key, problem.code, problem.params))
        day, kind = values.get("answered_on"), values.get("kind")
        if day and day > self.today:
            problems.append(self.problem(line, "answered_on", "future", {"value": day}))
        elif day and day < self.campaign.starts_on and kind == Kind.FOLLOW_UP:
            problems.append(self.problem(line, "answered_on", "before_campaign",
                                         {"value": day, "start": self.campaign.starts_on}))
        if kind == Kind.FOLLOW_UP:
            problems += [self.problem(line, key, "follow_up_answer") for key in OUTCOMES[:2]
                         if key in values and values[key] is None]
        elif kind == Kind.BASELINE:
            problems += [self.problem(line, key, "baseline_outcome") for key in OUTCOMES
                         if values.get(key) is not None]
        return values, problems

    def check(self, rows: list[tuple[int, Sequence[Any]]]) -> tuple[list[dict], list[dict]]:
        parsed, problems = [], []
        for line, cells in rows:
            values, row_problems = self.parse(line, cells)
            problems.extend(row_problems)
            if not row_problems:
                parsed.append((line, values))
        firms = firms_by_code(self.user, (values["uscc"] for _line, values in parsed))
        good, seen = [], {}
        for line, values in parsed:
            code = values["uscc"]
            firm = firms.visible.get(code)
            if code in firms.outside or firm is None:
                problems.append(self.problem(line, "uscc", "firm_outside" if code in firms.outside else "firm_unknown"))
                continue
            if not self.campaign.covers(firm.region_id):
                problems.append(self.problem(line, "uscc", "firm_not_covered"))
                continue
            key = (firm.pk, values["kind"], values["answered_on"])
            if key in seen:
                problems.append(self.problem(line, "uscc", "duplicate_row", {"line": seen[key]}))
                continue
            seen[key] = line
            good.append({**values, "line": line, "enterprise": firm})
        problems.sort(key=lambda problem: (problem["line"], problem["order"]))
        return good, problems


@dataclass
class SurveyImportReport(ImportReport):
    created: int = 0
    updated: int = 0


def survey_import(*, user: User, campaign: Campaign, upload: UploadedFile,
                  checked: Callable[[int], None] | None = None,
                  reading: Callable[[int], None] | None = None) -> SurveyImportReport:
    """Check every row of a survey list; write all of it in one transaction, or nothing. A background
    job follows its progress: `reading(rows)` while the file is read, `checked(rows)` when every row
    passed, before the writing starts."""
    if not (user.is_administrator or user.is_regulator):
        raise PermissionDenied
    check_open_for_entry(campaign)
    report = SurveyImportReport(file_name=PurePath(upload.name or "").name, messages=MESSAGES)
    def check(header, rows):
        return SurveyChecker(header=header, user=user, campaign=campaign).check(rows)

    answers = read_and_check(upload, COLUMNS, MAX_ROWS, report, check, reading=reading, checked=checked)
    if answers is None:
        return report
    with transaction.atomic():
        campaign = locked_campaign(campaign)
        check_open_for_entry(campaign)
        write_answers(campaign, answers, user=user, report=report)
        figures_changed(campaign.pk, SURVEY_SOURCES, [(code, None) for code in {a["enterprise"].region_id
                                                                               for a in answers}])
    return report


FIELDS = ("awareness_improved", "performance_improved", "revenue_change_pct", "output_change_pct",
          "profit_margin_change_pct", "comments")


def write_answers(campaign: Campaign, answers: list[dict], *, user: User, report: SurveyImportReport) -> None:
    kept = {(survey.enterprise_id, survey.kind, timezone.localdate(survey.answered_at)): survey
            for survey in NeedsSurvey.objects.filter(campaign=campaign,
                                                     enterprise__in=[answer["enterprise"] for answer in answers])}
    created, updated = [], []
    for answer in answers:
        survey = kept.get((answer["enterprise"].pk, answer["kind"], answer["answered_on"]))
        if survey is None:
            survey = NeedsSurvey(enterprise=answer["enterprise"], kind=answer["kind"], campaign=campaign,
                                 answered_by=user, answered_at=day_moment(answer["answered_on"]))
            created.append((survey, answer))
        else:
            updated.append((survey, answer))
        for name in FIELDS:
            setattr(survey, name, answer[name])
    NeedsSurvey.objects.bulk_create([survey for survey, _answer in created], batch_size=1000)
    NeedsSurvey.objects.bulk_update([survey for survey, _answer in updated], FIELDS, batch_size=1000)
    through = NeedsSurvey.services_wanted.through
    through.objects.filter(needssurvey_id__in=[survey.pk for survey, _answer in updated]).delete()
    through.objects.bulk_create([through(needssurvey_id=survey.pk, servicearea_id=area.pk)
                                 for survey, answer in [*created, *updated] for area in answer["services_wanted"]],
                                batch_size=2000)
    report.created, report.updated = len(created), len(updated)


def template_csv() -> bytes:
    return shared_report.template_csv(COLUMNS)
