"""Twilio's list envelope: one page of a list resource, with the URLs of its neighbours.

``PageSize`` is capped where the spec caps it (100 for the Recordings and Compositions lists,
1000 elsewhere); ``Page`` counts from 0. Filters the caller sent are kept in the page URLs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from twilio_emulator.errors import out_of_range
from twilio_emulator.params import Params

#: The largest ``PageSize`` of most lists; the spec caps Recordings and Compositions at 100.
MAX_PAGE_SIZE = 1000
SMALL_PAGE_SIZE = 100


def list_page(
    items: list[Any], params: Params, key: str, base: str, path: str, most: int = MAX_PAGE_SIZE
) -> tuple[int, dict[str, Any]]:
    """Twilio's list envelope: ``{key: [...], "meta": {...}}`` with page URLs."""
    size_raw = params.get("PageSize") or "50"
    page_raw = params.get("Page") or "0"
    try:
        size, page = int(size_raw), int(page_raw)
    except ValueError:
        raise out_of_range("PageSize", size_raw, 1, most) from None
    if not 1 <= size <= most:
        raise out_of_range("PageSize", size_raw, 1, most)
    if page < 0:
        raise out_of_range("Page", page_raw, 0, 1_000_000)
    filters = {k: v for k, v in params.items() if k not in ("PageSize", "Page", "PageToken")}

    def url(number: int) -> str:
        return f"{base}{path}?" + urlencode({**filters, "PageSize": size, "Page": number})

    chunk = items[page * size : (page + 1) * size]
    has_next = len(items) > (page + 1) * size
    return 200, {
        key: [item.to_json() for item in chunk],
        "meta": {
            "page": page,
            "page_size": size,
            "first_page_url": url(0),
            "previous_page_url": url(page - 1) if page > 0 else None,
            "url": url(page),
            "next_page_url": url(page + 1) if has_next else None,
            "key": key,
        },
    }
