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
