from rest_framework import pagination
from rest_framework.exceptions import ValidationError

from config.parsing import BIGINT_MAX, InvalidInput, parse_int


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` (from 1, or `last`), `?page_size=` (default 20, at most 100; more is read as 100).

    Both are parsed with bounds (config.parsing): anything but digits 0-9 is 400 `invalid` naming the parameter;
    a page past the end is 404.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param) or "1"
        if raw in self.last_page_strings:
            return paginator.num_pages
        return self._parse(self.page_query_param, raw)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if not raw:
            return self.page_size
        return min(self._parse(self.page_size_query_param, raw), self.max_page_size)

    @staticmethod
    def _parse(name: str, raw: str) -> int:
        try:
            return parse_int(raw, min_value=1, max_value=BIGINT_MAX)
        except InvalidInput as error:
            raise ValidationError({name: [str(error)]}) from None
