"""Bulk import of the expert pool (专家库批量导入) from CSV and XLSX files.

The pool is small (at most 10,000 rows), so unlike the registry import this runs while the
uploader waits: every row is checked first; if any row is bad the report lists each problem
with its file line, column and reason, and nothing is written. Otherwise every row is upserted
by pool number in one transaction, with one audit entry per expert created or changed.

Reading files (encodings, XLSX limits, formula-safe cells, how people spell headers) and the
report are the shared import package's (portal/imports/). Problems are kept as codes with
parameters and rendered in the reader's language (`problem_message`).
"""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from experts.models import Expert
from experts.services import AUDITED_FIELDS
from portal import audit
from portal.access import has_role
from portal.imports import report as shared_report
from portal.imports.cells import email_cell, within, yes_no_cell
from portal.imports.headers import Column, HeaderMap, header_token
from portal.imports.reading import CellProblem, FileProblem, cell_text
from portal.imports.report import CELL_MESSAGES, FILE_MESSAGES, ImportReport, file_error, read_small_table
from portal.models import AuditEntry, Region, Specialty, User, enclosing_codes
from portal.selectors import EVERYWHERE, jurisdiction_prefix

IMPORTERS = frozenset({User.Role.REGULATOR, User.Role.ADMINISTRATOR})
MAX_ROWS = 10_000
# Rows written per statement: keeps every IN (...) list well inside SQLite's parameter limit.
WRITE_CHUNK = 500
CAPACITY_RANGE = (1, 50)

COLUMNS = (
    Column("code", "专家编号", True, ("编号", "专家库编号", "pool_number")),
    Column("name", "姓名", True, ("专家姓名",)),
    Column("title", "职称", aliases=("专业技术职称",)),
    Column("employer", "工作单位", True, ("单位", "单位名称")),
    Column("employer_kind", "单位类型", aliases=("单位性质",)),
    Column("phone", "电话", aliases=("联系电话", "手机")),
    Column("email", "电子邮箱", aliases=("邮箱",)),
    Column("pool", "所属专家库", aliases=("专家库", "pool_region")),
    Column("specialties", "专业领域", True, ("专业", "specialty")),
    Column("regions_served", "服务地区", True, ("服务区域", "服务区划", "regions")),
    Column("capacity", "最多承担案件数", aliases=("承担案件数", "最多案件数")),
    Column("is_active", "是否在库", aliases=("在库", "active")),
)
COLUMNS_BY_KEY = {column.key: column for column in COLUMNS}
TEXT_KEYS = ("name", "title", "employer", "phone")
# Every column but the pool number, in their order; of these, an empty cell clears a text or e-mail.
FIELD_KEYS = tuple(column.key for column in COLUMNS if column.key != "code")
CLEARABLE_KEYS = (*TEXT_KEYS, "email")
# A list in one cell: 计量、质量管理 / metrology, quality-management / 130102;130104
LIST_SEPARATORS = re.compile(r"[、,，;；\s]+")
ACTIVE_WORDS = frozenset({"在库", "有效", "启用"})
INACTIVE_WORDS = frozenset({"不在库", "出库", "停用", "无效"})

Kind = Expert.EmployerKind
# Beside the codes and the labels in both languages, the words people write in Chinese lists.
EMPLOYER_KIND_WORDS = {
    "认证机构": Kind.CERTIFICATION_BODY,
    "检验检测机构": Kind.TEST_LAB, "检测机构": Kind.TEST_LAB, "实验室": Kind.TEST_LAB,
    "计量或标准化机构": Kind.METROLOGY, "计量机构": Kind.METROLOGY, "标准化机构": Kind.METROLOGY,
    "计量院": Kind.METROLOGY,
    "咨询机构": Kind.CONSULTANCY, "咨询公司": Kind.CONSULTANCY,
    "高校或科研院所": Kind.UNIVERSITY, "高校": Kind.UNIVERSITY, "大学": Kind.UNIVERSITY,
    "科研院所": Kind.UNIVERSITY,
    "企业": Kind.ENTERPRISE,
    "政府机关": Kind.GOVERNMENT, "政府部门": Kind.GOVERNMENT,
    "其他": Kind.OTHER,
}

# What the report suggests: one Chinese word per kind, in the order of the choices.
EMPLOYER_KIND_HINT = "、".join(dict.fromkeys(
    next(word for word, kind in EMPLOYER_KIND_WORDS.items() if kind == choice) for choice in Kind.values
))

MESSAGES = {
    **FILE_MESSAGES,
    "xlsx_inflated": _("The workbook would expand to more than %(limit)d MB; save only the expert list in it."),
    "no_rows": _("The file has a header row but no expert rows."),
    "changed_meanwhile": _("The pool changed while this file was being imported, so nothing was imported. "
                           "Upload the file again."),
    "code_required": _("Enter the expert's pool number."),
    "code_duplicate": _("This pool number is already on line %(line)d of this file."),
    "name_required": _("Enter the expert's name."),
    "employer_required": _("Enter the employer."),
    "too_long": CELL_MESSAGES["too_long"],
    "employer_kind_invalid": _("%(value)s is not a kind of employer; use one of: %(choices)s."),
    "email_invalid": CELL_MESSAGES["email_invalid"],
    "pool_required": _("Enter the region code of the pool that keeps this expert."),
    "region_unknown": CELL_MESSAGES["region_unknown"],
    "pool_outside": _("Pool %(region)s lies outside your jurisdiction."),
    "expert_outside": _("Pool number %(value)s is an expert kept by the pool of region %(region)s, outside your "
                        "jurisdiction."),
    "specialties_required": _("Enter at least one specialty (codes or Chinese names separated by 、 or commas)."),
    "specialty_unknown": _("Not a known specialty: %(values)s."),
    "regions_served_required": _("Enter at least one region served (6-digit codes separated by 、 or commas)."),
    "regions_unknown": _("Not known administrative division codes (6 digits, GB/T 2260): %(values)s."),
    "regions_outside": _("These regions lie outside your jurisdiction and the province and city around it: "
                         "%(values)s."),
    "capacity_invalid": _("%(value)s is not a whole number from 1 to 50."),
    "boolean_invalid": CELL_MESSAGES["boolean_invalid"],
}


def problem_message(problem: dict) -> str:
    """The sentence for a problem, in the active language."""
    return shared_report.problem_message(problem, MESSAGES)


# --- Reading the header ---------------------------------------------------------------------


# --- Checking cells -------------------------------------------------------------------------


def plain(raw: Any) -> str:
    """A cell as trimmed text with full-width digits, letters and punctuation made plain (NFKC)."""
    return unicodedata.normalize("NFKC", cell_text(raw)).strip()


def tokens(raw: Any) -> list[str]:
    return [token for token in LIST_SEPARATORS.split(plain(raw)) if token]


def limited(text: str, key: str) -> str:
    return within(text, Expert._meta.get_field(key).max_length)


def clean_capacity(raw: Any) -> int | None:
    text = plain(raw)
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation as error:
        raise CellProblem("capacity_invalid", value=text) from error
    low, high = CAPACITY_RANGE
    if not number.is_finite() or number != number.to_integral_value() or not low <= number <= high:
        raise CellProblem("capacity_invalid", value=text)
    return int(number)


def clean_active(raw: Any) -> bool | None:
    return yes_no_cell(plain(raw) if not isinstance(raw, bool) else raw, yes=ACTIVE_WORDS, no=INACTIVE_WORDS,
                       blank=None)


def employer_kind_words() -> dict[str, str]:
    words = {header_token(word): kind for word, kind in EMPLOYER_KIND_WORDS.items()}
    for kind in Kind:
        words[header_token(kind.value)] = kind.value
        for language in ("zh-hans", "en"):
            with translation.override(language):
                words.setdefault(header_token(str(kind.label)), kind.value)
    return words


def specialty_words() -> dict[str, Specialty]:
    words = {}
    for specialty in Specialty.objects.all():
        for word in (specialty.code, specialty.name, specialty.name_en):
            words.setdefault(header_token(word), specialty)
    return words


@dataclass
class CleanRow:
    """A checked row: `values` holds only the fields the file gives, to apply to the expert."""

    line: int
    code: str
    values: dict[str, Any]
    specialties: list[Specialty]
    served_codes: list[str]


class RowChecker:
    """Checks rows against reference data loaded once, in the uploader's jurisdiction."""

    def __init__(self, *, header: HeaderMap, user: User):
        self.header = header
        self.user = user
        self.prefix = jurisdiction_prefix(user)
        if self.prefix is None:
            raise PermissionDenied
        # Regions served may also be the province and city around the uploader's jurisdiction.
        self.above = set(enclosing_codes(user.region_id)) if user.region_id and self.prefix else set()
        self.regions = set(Region.objects.values_list("code", flat=True))
        self.specialties = specialty_words()
        self.kinds = employer_kind_words()
        self.seen: dict[str, int] = {}

    def cell(self, cells: Sequence[Any], key: str) -> Any:
        position = self.header.index.get(key)
        if position is None or position >= len(cells):
            return None
        return cells[position]

    def problem(self, line: int, key: str, code: str, params: dict | None = None) -> dict:
        return {"line": line, "column": self.header.column_name(key), "code": code, "params": params or {}}

    def keeps(self, code: str) -> bool:
        return self.prefix == EVERYWHERE or code.startswith(self.prefix)

    def parse(self, line: int, cells: Sequence[Any]) -> tuple[CleanRow | None, list[dict]]:
        values: dict[str, Any] = {}
        problems: list[dict] = []

        def take(key: str, cleaner) -> Any:
            try:
                return cleaner(self.cell(cells, key))
            except CellProblem as problem:
                problems.append(self.problem(line, key, problem.code, problem.params))
                return None

        code = take("code", self.clean_code) or ""
        if code:
            earlier = self.seen.setdefault(code, line)
            if earlier != line:
                problems.append(self.problem(line, "code", "code_duplicate", {"line": earlier}))
        for key in FIELD_KEYS:  # in the order of the columns, so a row's problems read left to right
            if key in CLEARABLE_KEYS and key not in self.header.index:
                continue  # an absent column leaves the field alone; an empty cell clears it
            cleaner = getattr(self, f"clean_{key}", None) or (lambda raw, key=key: self.clean_text(raw, key))
            value = take(key, cleaner)
            if value is not None:
                values[key] = value
        if problems:
            return None, problems
        specialties, served = values.pop("specialties"), values.pop("regions_served")
        if "pool" in values:
            values["region_id"] = values.pop("pool")
        return CleanRow(line=line, code=code, values=values, specialties=specialties, served_codes=served), []

    # Each cleaner raises CellProblem, or returns the value (None: the cell leaves the field alone).

    clean_capacity = staticmethod(clean_capacity)
    clean_is_active = staticmethod(clean_active)

    def clean_code(self, raw: Any) -> str:
        code = plain(raw)
        if not code:
            raise CellProblem("code_required")
        return limited(code, "code")

    def clean_text(self, raw: Any, key: str) -> str:
        text = limited(cell_text(raw), key)
        if not text and COLUMNS_BY_KEY[key].required:
            raise CellProblem(f"{key}_required")
        return text

    def clean_email(self, raw: Any) -> str:
        return email_cell(plain(raw), Expert._meta.get_field("email").max_length)

    def clean_employer_kind(self, raw: Any) -> str | None:
        text = plain(raw)
        if not text:
            return None
        kind = self.kinds.get(header_token(text))
        if kind is None:
            raise CellProblem("employer_kind_invalid", value=text, choices=EMPLOYER_KIND_HINT)
        return kind

    def clean_pool(self, raw: Any) -> str | None:
        code = plain(raw)
        if not code:
            return None
        if code not in self.regions:
            raise CellProblem("region_unknown", value=code)
        if not self.keeps(code):
            raise CellProblem("pool_outside", region=code)
        return code

    def clean_specialties(self, raw: Any) -> list[Specialty]:
        words = tokens(raw)
        if not words:
            raise CellProblem("specialties_required")
        found = [self.specialties.get(header_token(word)) for word in words]
        unknown = [word for word, specialty in zip(words, found, strict=True) if specialty is None]
        if unknown:
            raise CellProblem("specialty_unknown", values="、".join(unknown))
        return list(dict.fromkeys(found))

    def clean_regions_served(self, raw: Any) -> list[str]:
        codes = list(dict.fromkeys(tokens(raw)))
        if not codes:
            raise CellProblem("regions_served_required")
        unknown = [code for code in codes if code not in self.regions]
        if unknown:
            raise CellProblem("regions_unknown", values="、".join(unknown))
        outside = [code for code in codes if not self.keeps(code) and code not in self.above]
        if outside:
            raise CellProblem("regions_outside", values="、".join(outside))
        return codes

    def check(self, rows: list[tuple[int, Sequence[Any]]]) -> tuple[list[CleanRow], list[dict]]:
        """The good rows and the problems of the others; experts already in the pool are looked up
        a chunk at a time, and one kept by a pool outside the jurisdiction is refused."""
        good: list[CleanRow] = []
        problems: list[dict] = []
        for line, cells in rows:
            row, row_problems = self.parse(line, cells)
            if row is not None:
                good.append(row)
            problems.extend(row_problems)
        pools = {}
        for start in range(0, len(good), WRITE_CHUNK):
            codes = [row.code for row in good[start:start + WRITE_CHUNK]]
            pools.update(Expert.objects.filter(code__in=codes).values_list("code", "region_id"))
        kept = []
        for row in good:
            pool = pools.get(row.code)
            if pool is not None and not self.keeps(pool):
                problems.append(self.problem(row.line, "code", "expert_outside", {"value": row.code, "region": pool}))
            elif pool is None and "region_id" not in row.values and not self.user.region_id:
                problems.append(self.problem(row.line, "pool", "pool_required"))
            else:
                kept.append(row)
        problems.sort(key=lambda problem: problem["line"])
        return kept, problems


# --- The import -----------------------------------------------------------------------------


@dataclass
class ExpertImportReport(ImportReport):
    """The report of a pool list: its problems, or how many experts it created, changed or left as they were."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


def read_rows(upload: UploadedFile) -> tuple[HeaderMap, list[tuple[int, Sequence[Any]]]]:
    return read_small_table(upload, COLUMNS, MAX_ROWS)


def expert_import(*, user: User, upload: UploadedFile) -> ExpertImportReport:
    """Check every row of an uploaded pool list; write them all, or nothing when any is bad.

    A whole-file problem (type, size, encoding, headers) raises ValidationError on "file".
    """
    if not has_role(user, IMPORTERS):
        raise PermissionDenied
    report = ExpertImportReport(file_name=PurePath(upload.name or "").name, messages=MESSAGES)
    try:
        header, rows = read_rows(upload)
    except FileProblem as problem:
        raise file_error(problem, MESSAGES) from problem
    report.total_rows = len(rows)
    report.ignored_columns = header.ignored
    checker = RowChecker(header=header, user=user)
    good, report.problems = checker.check(rows)
    if report.problems:
        return report
    try:
        with transaction.atomic():
            report.created, report.updated, report.unchanged = upsert(good, header=header, user=user,
                                                                      file_name=report.file_name)
    except IntegrityError as error:
        # Something the check could not foresee changed meanwhile (a login, a region).
        raise file_error(FileProblem("changed_meanwhile"), MESSAGES) from error
    return report


def upsert(rows: list[CleanRow], *, header: HeaderMap, user: User, file_name: str) -> tuple[int, int, int]:
    """Create or update every row by pool number; returns (created, updated, unchanged).

    A chunk at a time: one read of the chunk's experts already in the pool (locked, with their
    specialties and regions for the audit trail), one INSERT ... ON CONFLICT (code) DO UPDATE for
    the new and the changed ones, the specialty and region links of those whose lists changed,
    and one bulk INSERT of their audit entries. An expert whose row changes nothing is not written.
    """
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    region_codes = {code for row in rows for code in row.served_codes}
    region_codes |= {row.values["region_id"] for row in rows if "region_id" in row.values}
    if user.region_id:
        region_codes.add(user.region_id)
    regions = Region.objects.in_bulk(region_codes)
    writer = ChunkWriter(user=user, regions=regions, update_fields=update_fields_for(header),
                         note=str(_("Imported from %(file)s") % {"file": file_name}))
    for start in range(0, len(rows), WRITE_CHUNK):
        for key, count in writer.write(rows[start:start + WRITE_CHUNK]).items():
            counts[key] += count
    return counts["created"], counts["updated"], counts["unchanged"]


def update_fields_for(header: HeaderMap) -> list[str]:
    """What a re-import overwrites: the fields the file has a column for, and the update time."""
    fields = [key for key in (*TEXT_KEYS, "email", "employer_kind", "capacity", "is_active") if key in header.index]
    if "pool" in header.index:
        fields.append("region")
    return [*fields, "updated_at"]


CONCRETE_AUDITED = [name for name in AUDITED_FIELDS if name not in ("specialties", "regions_served")]


class ChunkWriter:
    def __init__(self, *, user: User, regions: dict[str, Region], update_fields: list[str], note: str):
        self.user = user
        self.regions = regions
        self.update_fields = update_fields
        self.note = note
        self.content_type = ContentType.objects.get_for_model(Expert)

    def write(self, chunk: list[CleanRow]) -> dict[str, int]:
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        existing = {
            expert.code: expert
            for expert in Expert.objects.filter(code__in=[row.code for row in chunk])
            .select_related("region", "user").prefetch_related("specialties", "regions_served")
            .select_for_update(of=("self",))
        }
        now = timezone.now()
        written: list[tuple[Expert, CleanRow, dict, bool]] = []  # (expert, row, changes, relink)
        for row in chunk:
            expert = existing.get(row.code)
            before = audit.snapshot(expert, AUDITED_FIELDS) if expert else None
            if expert is None:
                expert = Expert(code=row.code, employer_kind=Kind.OTHER, region=self.regions.get(self.user.region_id))
            for name, value in row.values.items():
                if name == "region_id":
                    expert.region = self.regions[value]
                else:
                    setattr(expert, name, value)
            served = [self.regions[code] for code in row.served_codes]
            after = {**audit.snapshot(expert, CONCRETE_AUDITED),
                     "specialties": sorted(str(specialty) for specialty in row.specialties),
                     "regions_served": sorted(str(region) for region in served)}
            if before is None:
                counts["created"] += 1
                changes = {name: [None, value] for name, value in after.items() if value not in (None, "", [])}
                written.append((expert, row, changes, True))
                continue
            changes = audit.diff(before, after)
            if not changes:
                counts["unchanged"] += 1
                continue
            counts["updated"] += 1
            relink = "specialties" in changes or "regions_served" in changes
            written.append((expert, row, changes, relink))
        if not written:
            return counts
        # New rows are inserted; a pool number already there (read above, or added meanwhile) is updated.
        # Unsaved copies: an object with a primary key would be inserted by it, not upserted by code.
        # created_at and updated_at are set by the insert; a conflict keeps created_at.
        fields = [f.attname for f in Expert._meta.concrete_fields
                  if f.attname not in ("id", "created_at", "updated_at")]
        saved = Expert.objects.bulk_create(
            [Expert(**{name: getattr(expert, name) for name in fields}) for expert, *_ in written],
            update_conflicts=True, unique_fields=["code"], update_fields=self.update_fields,
        )
        ids = {expert.code: expert.pk for expert in saved if expert.pk is not None}
        if len(ids) < len(saved):  # a backend that returns no ids from an upsert
            ids = dict(Expert.objects.filter(code__in=[e.code for e in saved]).values_list("code", "pk"))
        relinked = [ids[row.code] for _expert, row, _changes, relink in written if relink]
        Expert.specialties.through.objects.filter(expert_id__in=relinked).delete()
        Expert.regions_served.through.objects.filter(expert_id__in=relinked).delete()
        Expert.specialties.through.objects.bulk_create([
            Expert.specialties.through(expert_id=ids[row.code], specialty_id=specialty.pk)
            for _expert, row, _changes, relink in written if relink for specialty in row.specialties
        ])
        Expert.regions_served.through.objects.bulk_create([
            Expert.regions_served.through(expert_id=ids[row.code], region_id=code)
            for _expert, row, _changes, relink in written if relink for code in row.served_codes
        ])
        AuditEntry.objects.bulk_create([
            AuditEntry(content_type=self.content_type, object_id=str(ids[row.code]), object_repr=str(expert)[:200],
                       region_code=expert.region_id, action=AuditEntry.Action.IMPORT, actor=self.user,
                       changes=changes, note=self.note, at=now)
            for expert, row, changes, _relink in written
        ])
        return counts


def template_csv() -> bytes:
    """An empty list with the header row, for people to fill in (UTF-8 with BOM for Excel)."""
    return shared_report.template_csv(COLUMNS)
