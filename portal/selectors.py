"""Who may see which regions: the one answer every page and endpoint starts from; and what the
region picker offers: regions by parent (province, city, county in turn) and by what a person
types, a name, a code or its pinyin ("shijiazhuang", "sjz"), inside what the user may pick."""

from dataclasses import dataclass
from functools import cache

from django.db.models import Q, QuerySet
from pypinyin import Style, lazy_pinyin

from portal.access import STAFF_ROLES, has_role
from portal.forms import halfwidth
from portal.models import Region, User

EVERYWHERE = ""


def jurisdiction_prefix(user: User) -> str | None:
    """The region-code prefix bounding what `user` sees across the portal.

    "" (EVERYWHERE) for administrators, the jurisdiction's prefix for regulators and supervisors,
    None for everyone else: SME users and experts see their own records, not regions.
    """
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_administrator:
        return EVERYWHERE
    if user.role in User.JURISDICTION_ROLES and user.region_id:
        return user.region.prefix
    return None


def region_code_q(user: User, field: str = "region") -> Q:
    """A Q keeping rows whose `field` region lies inside the user's jurisdiction.

    Matches on the foreign-key column itself (`region_id LIKE '1301%'`), so no join is needed.
    """
    prefix = jurisdiction_prefix(user)
    if prefix is None:
        return Q(pk__in=[])
    if prefix == EVERYWHERE:
        return Q()
    return Q(**{f"{field}__code__startswith": prefix})


def regions_visible_to(user: User) -> QuerySet[Region]:
    """The regions `user` may open: their jurisdiction and everything inside it."""
    prefix = jurisdiction_prefix(user)
    regions = Region.objects.select_related("parent")
    if prefix is None:
        return regions.none()
    if prefix == EVERYWHERE:
        return regions.all()
    return regions.filter(code__startswith=prefix)


def region_is_visible_to(user: User, code: str) -> bool:
    prefix = jurisdiction_prefix(user)
    return prefix is not None and code.startswith(prefix)


# --- The region picker -----------------------------------------------------------------------------
# Staff pick inside their jurisdiction; an SME (registering its firm anywhere in the country) and an
# expert pick from every region: region names are public reference data.

PICKER_LIMIT = 20


def regions_pickable_by(user: User) -> QuerySet[Region]:
    if has_role(user, STAFF_ROLES):
        return regions_visible_to(user)
    return Region.objects.all()


def picker_root(user: User) -> Region | None:
    """Where the cascade starts: the jurisdiction itself for a city or county official."""
    if has_role(user, STAFF_ROLES) and user.region_id and jurisdiction_prefix(user):
        return user.region
    return None


@dataclass(frozen=True)
class Spelling:
    full: str  # "shijiazhuangshi"
    initials: str  # "sjzs"


@cache
def spelling_of(name: str) -> Spelling:
    syllables = lazy_pinyin(name, errors="ignore")
    return Spelling(full="".join(syllables), initials="".join(lazy_pinyin(name, style=Style.FIRST_LETTER,
                                                                          errors="ignore")))


@cache
def region_spellings() -> dict[str, tuple[str, Spelling]]:
    """Every region's code -> (name, spelling), worked out once per process (3,200 names)."""
    return {code: (name, spelling_of(name)) for code, name in Region.objects.values_list("code", "name")}


def region_search(user: User, text: str) -> list[Region]:
    """Regions whose name contains `text`, whose code starts with it, or whose pinyin (in full or
    by initials) starts with it; counties after cities after provinces, then by code."""
    text = "".join(halfwidth(text).split()).lower().replace("'", "")
    if not text:
        return []
    if text.isdigit():
        codes = None
        regions = regions_pickable_by(user).filter(code__startswith=text)
    else:
        codes = [code for code, (name, spelling) in region_spellings().items()
                 if text in name or spelling.full.startswith(text) or spelling.initials.startswith(text)]
        regions = regions_pickable_by(user).filter(code__in=codes)
    order = {"province": 0, "city": 1, "county": 2}
    found = sorted(regions.select_related("parent__parent")[:500], key=lambda r: (order[r.level], r.code))
    return found[:PICKER_LIMIT]


def regions_below(user: User, parent_code: str | None) -> list[Region]:
    """The regions one level below `parent_code`, or the top of what the user may pick."""
    pickable = regions_pickable_by(user)
    if parent_code:
        return list(pickable.filter(parent_id=parent_code).select_related("parent__parent").order_by("code"))
    root = picker_root(user)
    if root is not None:
        return [root]
    return list(pickable.filter(level=Region.Level.PROVINCE).order_by("code"))


def region_json(region: Region) -> dict:
    """A region for the picker, with its trail (province, city, itself) as far as it was loaded;
    the country above the provinces is not named (every region is in it)."""
    path = []
    current = region
    while current is not None and current.level != Region.Level.NATIONAL:
        path.append(current.name)
        current = current.parent if Region.parent.is_cached(current) else None
    return {"code": region.code, "name": region.name, "level": region.level, "path": " ".join(reversed(path))}
