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
