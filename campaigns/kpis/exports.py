"""A dashboard as CSV and XLSX: its sections, formula-safe cells, sheet names Excel accepts."""

import codecs
import csv
import io
from dataclasses import dataclass, field
from typing import IO, Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from campaigns.kpis.dashboards import BREAKDOWN_FIGURES, HEADLINE, MONTHLY, RANKED, Breakdown, Dashboard, Figure
from portal.exports import neutralise


@dataclass
class Section:
    """One table of the export: a sheet of the workbook, a block of the CSV file."""

    title: str
    header: list[str]
    rows: list[list[Any]]
    preamble: list[list[Any]] = field(default_factory=list)


def as_of(dashboard: Dashboard) -> str:
    if dashboard.computed_at is None:
        return _("figures not computed yet")
    return date_format(timezone.localtime(dashboard.computed_at), "Y-m-d H:i")


def heading(figure: Figure) -> str:
    """A column or row heading of the export: the label, with the unit of a share or a change."""
    return f"{figure.label} (%)" if figure.unit in ("%", "±%") else str(figure.label)


def export_sections(dashboard: Dashboard) -> list[Section]:
    stamp = as_of(dashboard)
    totals = dashboard.totals or {}
    headline = Section(
        _("Headline figures"), [_("Figure"), _("Value"), _("As of")],
        [[heading(figure), totals.get(figure.name), stamp] for figure in HEADLINE],
        preamble=[[_("Campaign"), dashboard.campaign.name],
                  [_("Organising bureau"), dashboard.campaign.organiser],
                  [_("Region"), dashboard.region.full_name()],
                  [_("Region code"), dashboard.region.code],
                  [_("Figures as of"), stamp]],
    )
    own_targets = Section(
        _("Targets"), [_("Figure"), _("Target"), _("Actual"), _("Attainment (%)"), _("Met"), _("Compared with")],
        [[str(row.label), row.target, row.actual, row.attainment, _("yes") if row.met else _("no"),
          row.basis_text] for row in dashboard.targets],
    )
    target_headers = []
    for _metric, label in dashboard.target_columns():
        target_headers += [_("%(figure)s: target") % {"figure": label}, _("%(figure)s: actual") % {"figure": label}]
    regions = Section(
        _("Regions"),
        [_("Rank"), _("Region code"), _("Region"), *[heading(f) for f in RANKED], _("Target attainment (%)"),
         *target_headers],
        [[child.rank, child.region.code, child.region.name, *[child.figures.get(f.name) for f in RANKED],
          child.attainment, *[value for row in cells for value in ((row.target, row.actual) if row else (None, None))]]
         for child, cells in dashboard.target_matrix()],
    )
    monthly = Section(
        _("Monthly"), [_("Month"), *[heading(f) for f in MONTHLY]],
        [[period, *[figures.get(f.name) or 0 for f in MONTHLY]] for period, figures in dashboard.months],
    )
    # A size class is named, never shown by its stored code (micro, small...).
    breakdown_titles = {Breakdown.INDUSTRY: (_("Industry"), _("Section")),
                        Breakdown.SIZE: (_("Size class"), None),
                        Breakdown.SERVICE_AREA: (_("Service area"), _("Number")),
                        Breakdown.SCHEME: (_("Certification scheme"), _("Code"))}
    breakdowns = []
    for breakdown, figures in BREAKDOWN_FIGURES.items():
        title, key_header = breakdown_titles[breakdown]
        keys = [key_header] if key_header else []
        breakdowns.append(Section(
            title, [*keys, _("Name") if keys else title, *[heading(f) for f in figures]],
            [[*([row.key] if keys else []), row.label, *[row.figures.get(f.name) or 0 for f in figures]]
             for row in dashboard.breakdowns[breakdown]],
        ))
    return [headline, own_targets, regions, monthly, *breakdowns]


def csv_value(value: Any) -> Any:
    return "" if value is None else neutralise(value)


def write_csv(dashboard: Dashboard) -> bytes:
    """UTF-8 with a BOM (Excel reads the Chinese right); the sections one after another, each
    under its title, with a blank line between."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for number, section in enumerate(export_sections(dashboard)):
        if number:
            writer.writerow([])
        writer.writerow([csv_value(section.title)])
        for row in [*section.preamble, section.header, *section.rows]:
            writer.writerow([csv_value(value) for value in row])
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


SHEET_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


def write_xlsx(dashboard: Dashboard, target: IO[bytes]) -> None:
    """One sheet per section; text a spreadsheet would evaluate is neutralised and typed as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    bold = Font(bold=True)
    workbook = Workbook()
    workbook.remove(workbook.active)
    for section in export_sections(dashboard):
        sheet = workbook.create_sheet(title=section.title.translate(SHEET_FORBIDDEN)[:31])
        for row in section.preamble:
            sheet.append([xlsx_value(value) for value in row])
        sheet.append([xlsx_value(value) for value in section.header])
        header_row = sheet.max_row
        for cell in sheet[header_row]:
            cell.font = bold
        for row in section.rows:
            sheet.append([xlsx_value(value) for value in row])
        sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
        for cell in sheet[header_row]:
            width = max(len(str(cell.value or "")) * 2, 10)
            sheet.column_dimensions[cell.column_letter].width = min(width, 40)
        # The text cells: openpyxl would store "=..." as a formula and "#..." as an error value.
        for line in sheet.iter_rows():
            for cell in line:
                if isinstance(cell.value, str) and cell.value[:1] in ("'", "=", "#"):
                    cell.data_type = "s"
    workbook.save(target)


def xlsx_value(value: Any) -> Any:
    return neutralise(str(value)) if isinstance(value, Promise) else neutralise(value)
