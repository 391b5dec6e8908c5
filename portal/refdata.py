"""Loading the reference data kept in portal/reference/ (see portal/reference/SOURCES.md).

Used by the data migration that fills a new database and by `manage.py load_reference_data`,
which brings an existing one up to date. Loading is an upsert keyed by code, so running it again
changes nothing. The files are the authority: running it again overwrites edits made to these
rows in Django admin.
"""

import csv
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"

# The ten service areas of the "double zero" SME quality technical service campaign (2017).
SERVICE_AREAS = [
    (1, "需求诊断", "Needs diagnosis", "摸清企业质量需求，开展质量诊断"),
    (2, "质量基础升级", "Quality-infrastructure upgrade", "帮扶企业升级质量基础：计量、校准、检定"),
    (3, "技术创新", "Technology innovation", "支持企业质量技术创新"),
    (4, "品牌建设", "Brand building", "帮助企业培育和建设品牌"),
    (5, "出口质量提升", "Export quality upgrade", "帮助出口企业提升质量，应对技术性贸易措施"),
    (6, "服务业质量管理", "Quality management for service-sector SMEs", "服务业中小企业质量管理"),
    (7, "质量政策宣传", "Quality-policy promotion", "宣传质量政策法规"),
    (8, "培训与咨询", "Training and consulting", "质量培训与咨询"),
    (9, "政府质量服务", "Government quality services", "送样检测“绿色通道”等政府质量公共服务"),
    (10, "一站式服务", "One-stop service", "计量、标准、检验检测、认证认可“一站式”服务"),
]

# Expert specialties (专业领域), each with the service areas it can serve in matching.
SPECIALTIES = [
    ("quality-management", "质量管理", "Quality management", [1, 6, 7, 8]),
    ("excellence-model", "卓越绩效", "Excellence performance model", [1, 8]),
    ("food-safety", "食品安全", "Food safety", [2, 6, 9]),
    ("special-equipment", "特种设备", "Special equipment", [2, 9]),
    ("inspection-testing", "检验检测", "Inspection and testing", [2, 5, 9, 10]),
    ("standardization", "标准化", "Standardization", [2, 8, 10]),
    ("metrology", "计量", "Metrology", [2, 10]),
    ("certification", "认证认可", "Certification and accreditation", [2, 5, 10]),
    ("product-safety", "产品质量安全", "Product quality and safety", [1, 7, 9]),
    ("brand", "品牌建设", "Brand building", [4]),
    ("intellectual-property", "知识产权", "Intellectual property", [3, 4]),
    ("production-licence", "工业产品生产许可", "Industrial product production licences", [7, 9]),
    ("service-quality", "服务质量", "Service quality", [6, 8]),
    ("technology-innovation", "质量技术创新", "Quality technology innovation", [3]),
    ("export-tbt", "出口与技术性贸易措施", "Export and technical barriers to trade", [5]),
]


def read_csv(name: str) -> list[dict[str, str]]:
    with open(REFERENCE_DIR / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load_regions(Region) -> int:
    rows = read_csv("regions.csv")
    existing = set(Region.objects.values_list("code", flat=True))
    # Parents first: the file is sorted by code, and a parent's code sorts before its children's.
    by_level = {"national": -1, "province": 0, "city": 1, "county": 2}
    rows.sort(key=lambda row: (by_level[row["level"]], row["code"]))
    new = [
        Region(code=row["code"], name=row["name"], level=row["level"], parent_id=row["parent_code"] or None)
        for row in rows
        if row["code"] not in existing
    ]
    Region.objects.bulk_create(new, batch_size=1000)
    changed = [
        Region(code=row["code"], name=row["name"], level=row["level"], parent_id=row["parent_code"] or None)
        for row in rows
        if row["code"] in existing
    ]
    Region.objects.bulk_update(changed, ["name", "level", "parent"], batch_size=1000)
    return len(rows)


def load_industries(Industry) -> int:
    rows = read_csv("industries.csv")
    rows.sort(key=lambda row: (row["level"] != "section", row["code"]))
    for row in rows:
        Industry.objects.update_or_create(
            code=row["code"],
            defaults={"name": row["name"], "name_en": row["name_en"], "level": row["level"],
                      "parent_id": row["parent_code"] or None},
        )
    return len(rows)


def load_service_areas(ServiceArea, Specialty) -> int:
    for code, name, name_en, description in SERVICE_AREAS:
        ServiceArea.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "description": description}
        )
    for code, name, name_en, areas in SPECIALTIES:
        specialty, _ = Specialty.objects.update_or_create(code=code, defaults={"name": name, "name_en": name_en})
        specialty.service_areas.set(areas)
    return len(SERVICE_AREAS) + len(SPECIALTIES)


def load_all(Region, Industry, ServiceArea, Specialty) -> dict[str, int]:
    return {
        "regions": load_regions(Region),
        "industries": load_industries(Industry),
        "service areas and specialties": load_service_areas(ServiceArea, Specialty),
    }
