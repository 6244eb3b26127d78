"""GET /c/<token>: a lead opens a tracked catalog link; one view is counted, then the brochure."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from leadbot.domain import LinkNotFound
from leadbot.services import catalog

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ bare

# Every answer depends on the token and on whether the lead still exists: never cache one, or a
# browser or proxy would replay the redirect without counting the view.
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/c/<token>")
def open_catalog(token: str) -> Response[str]:
    preview = catalog.is_link_preview(router.current_event.headers.get("user-agent"))
    return _redirect(token, count=not preview)


@router.head("/c/<token>")
def check_catalog(token: str) -> Response[str]:
    """Link checkers and preview bots get the same answer, and no view is counted."""
    return _redirect(token, count=False)


def _redirect(token: str, *, count: bool) -> Response[str]:
    try:
        url = catalog.open_catalog(token, count=count)
    except LinkNotFound:
        text = catalog.link_invalid_text(router.current_event.headers.get("accept-language"))
        return Response(404, "text/plain; charset=utf-8", text, NO_STORE)
    return Response(302, "text/plain; charset=utf-8", "", {"Location": url, **NO_STORE})
