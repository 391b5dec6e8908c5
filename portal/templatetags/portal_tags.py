"""Template helpers shared by the lists."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_query(context, number) -> str:
    """The current query string with `page` set to `number`, keeping repeated parameters
    (size=micro&size=small) that a plain loop over request.GET.items would drop."""
    query = context["request"].GET.copy()
    query["page"] = number
    return query.urlencode()


@register.simple_tag
def once_token() -> str:
    """A form's one-time token: sending the same form twice (a double tap, a reload of the POST)
    creates one thing (portal.idempotency.idempotent_post)."""
    import uuid

    from django.utils.html import format_html

    from portal.idempotency import FORM_FIELD

    return format_html('<input type="hidden" name="{}" value="{}">', FORM_FIELD, uuid.uuid4().hex)


@register.simple_tag
def industry_options(selected: str = "") -> str:
    """<option>s for an industry filter: each GB/T 4754 section (all its divisions) and, grouped
    under it, its divisions, by name; the values are what the filters read ("C" or "13")."""
    from django.utils.html import format_html, format_html_join
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext as _

    from portal.models import Industry

    selected = (selected or "").strip().upper()
    divisions: dict[str, list[Industry]] = {}
    sections = []
    for industry in Industry.objects.order_by("code"):
        if industry.level == Industry.Level.SECTION:
            sections.append(industry)
        else:
            divisions.setdefault(industry.parent_id, []).append(industry)
    groups = []
    for section in sections:
        options = [(section.code, " selected" if section.code == selected else "", _("%(section)s (all)") % {
            "section": section})]
        options += [(d.code, " selected" if d.code == selected else "", str(d)) for d in divisions.get(section.pk, [])]
        groups.append(format_html('<optgroup label="{}">{}</optgroup>', str(section), format_html_join(
            "", '<option value="{}"{}>{}</option>', ((v, mark_safe(s), label) for v, s, label in options))))
    return mark_safe("".join(groups))
