from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import remove_query_param, replace_query_param

from portal.pagination import keyset_page


class PortalPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class KeysetPagination(BasePagination):
    """Cursor pages (portal/pagination.py) for lists as large as a province's registry: `?after=` or
    `?before=` a cursor from `next`/`previous`, `page_size` up to 500. `count` is exact unless
    `count_is_estimate` says it is the planner's estimate (more than EXACT_COUNT_LIMIT rows) or
    `count_is_lower_bound` that more rows match (a search, counted up to 1,000)."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        try:
            size = int(request.query_params.get(self.page_size_query_param, ""))
        except ValueError:
            size = api_settings.PAGE_SIZE
        size = min(max(size, 1), self.max_page_size)
        ordering = tuple(queryset.query.order_by) or ("pk",)
        # A free-text search (`q`) is the filter whose row count the planner cannot estimate.
        self.page = keyset_page(queryset, ordering, per_page=size, after=request.query_params.get("after", ""),
                                before=request.query_params.get("before", ""),
                                trust_estimate=not request.query_params.get("q", "").strip())
        return self.page.rows

    def link(self, key: str, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), "after" if key == "before" else "before")
        return replace_query_param(url, key, cursor)

    def get_paginated_response(self, data):
        return Response({
            "count": self.page.count,
            "count_is_estimate": self.page.count_is_estimate,
            "count_is_lower_bound": self.page.count_is_lower_bound,
            "next": self.link("after", self.page.next_cursor),
            "previous": self.link("before", self.page.previous_cursor),
            "results": data,
        })

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "count_is_estimate", "results"],
            "properties": {
                "count": {"type": "integer", "example": 123},
                "count_is_estimate": {"type": "boolean"},
                "count_is_lower_bound": {"type": "boolean", "description": "More than `count` rows match."},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": name, "required": False, "in": "query", "description": description, "schema": {"type": kind}}
            for name, kind, description in (
                ("after", "string", "The cursor of `next`: the page after it."),
                ("before", "string", "The cursor of `previous`: the page before it."),
                ("page_size", "integer", "Rows per page (at most 500)."),
            )
        ]
