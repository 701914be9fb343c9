"""Filter backends of the API (REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"])."""

from rest_framework import filters
from rest_framework.exceptions import ValidationError


class SearchFilter(filters.SearchFilter):
    """`?search=words`, as DRF's, but a NUL character (which PostgreSQL cannot hold in a query) is 400 `invalid`."""

    def get_search_terms(self, request):
        if "\x00" in request.query_params.get(self.search_param, ""):
            raise ValidationError({self.search_param: ["Null characters are not allowed."]})
        return super().get_search_terms(request)


class OrderingFilter(filters.OrderingFilter):
    """`?ordering=field`, `-field` for descending, several separated by commas, among the view's `ordering_fields`.

    DRF's filter drops what it does not know and falls back to the default order, so a typo silently returns
    another order than asked; here an unknown term is a 400 naming the allowed fields, like an unknown filter
    value. A view without `ordering_fields` offers no ordering (DRF would derive one from its serializer). An
    empty `?ordering=` is the default order. The primary key is appended as the last key, so equal values keep one
    order from page to page.
    """

    def allowed_fields(self, queryset, view) -> list[str]:
        """The names `?ordering=` accepts on this view (each also with a leading `-`)."""
        if getattr(view, "ordering_fields", self.ordering_fields) is None:
            return []
        return [name for name, _label in self.get_valid_fields(queryset, view)]

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param, "")
        terms = [term.strip() for term in raw.split(",") if term.strip()]
        if not terms:
            return self.get_default_ordering(view)
        allowed = self.allowed_fields(queryset, view)
        unknown = [term for term in terms if term.removeprefix("-") not in allowed]
        if unknown:
            raise ValidationError({self.ordering_param: [self._unknown_message(unknown, allowed)]})
        if not any(term.removeprefix("-") in ("pk", "id") for term in terms):
            terms.append("pk")
        return terms

    @staticmethod
    def _unknown_message(unknown: list[str], allowed: list[str]) -> str:
        names = ", ".join(f"'{term[:50]}'" for term in unknown[:5])
        subject = "Unknown ordering field" if len(unknown) == 1 else "Unknown ordering fields"
        if not allowed:
            return f"{subject} {names}: this list cannot be ordered."
        return (
            f"{subject} {names}. Allowed: {', '.join(allowed)}, each optionally prefixed with '-' for descending; "
            "separate several with commas."
        )
