from django.http import HttpRequest


def htmx_partial(request: HttpRequest) -> bool:
    """True for an htmx request that wants a fragment, not a boosted page load."""
    return bool(request.htmx) and not request.htmx.boosted
