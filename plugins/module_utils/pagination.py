# Copyright (c) processmaker.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Following ProcessMaker's pagination envelope ``{"data": [...], "meta": {...}}``.

``meta`` carries ``current_page``, ``per_page``, ``total`` and ``total_pages`` (Laravel's
``last_page`` too). Pages are fetched in order until the last one; ``max_items`` makes an
over-large result fail clearly instead of being cut silently.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.processmaker.core.plugins.module_utils.errors import (
    ProcessMakerError,
    not_json,
)

DEFAULT_PER_PAGE = 100


def is_page(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("data"), list) and isinstance(body.get("meta"), dict)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: Infinity
        return None


def total_pages(meta: dict) -> int | None:
    pages = _int(meta.get("total_pages"))
    if pages is None:
        pages = _int(meta.get("last_page"))
    if pages is None:
        total, per_page = _int(meta.get("total")), _int(meta.get("per_page"))
        if total is not None and per_page:
            pages = total // per_page + (1 if total % per_page else 0)  # exact for any size
    return pages


class TooManyItems(ProcessMakerError):
    pass


@dataclass
class PageCollection:
    items: list = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    pages: int = 0
    paginated: bool = True
    last_response: Any = None
    responses: list = field(default_factory=list)


def _too_many(count: int, max_items: int, method: str, url: str) -> TooManyItems:
    return TooManyItems(
        f"{count} items, more than max_items={max_items}",
        code="too_many_items", method=method, url=url,
        hint="Raise max_items, or narrow the query (filter, pmql, status) so fewer items match",
    )


class _Prefetch:
    """The pages after the first requested up to ``concurrency`` ahead of the one being read, and handed out in
    order (so every check sees the pages as a sequential walk would): the server answers the next pages while
    this process decodes the last one. A window, not every announced page at once: a server may announce
    any number of pages, and a walk that stops early (an empty or repeated page) leaves at most the window."""

    def __init__(self, fetch: Callable[[int], Any], last: int, concurrency: int) -> None:
        self.fetch = fetch
        self.last = last
        self.window = min(concurrency, last - 1) if concurrency > 1 and last > 2 else 0
        self.pool = ThreadPoolExecutor(max_workers=self.window, thread_name_prefix="pm_pages") if self.window else None
        self.futures: dict = {}
        self.following = 2  # the next page to request
        self._request_up_to(1 + self.window)

    def _request_up_to(self, page: int) -> None:
        while self.pool is not None and self.following <= min(page, self.last):
            self.futures[self.following] = self.pool.submit(self.fetch, self.following)
            self.following += 1

    def __call__(self, page: int) -> Any:
        future = self.futures.pop(page, None)
        self._request_up_to(page + self.window)
        return future.result() if future is not None else self.fetch(page)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def collect_pages(fetch: Callable[[int], Any], *, max_items: int | None = None, method: str = "GET",
                  url: str = "", concurrency: int = 1) -> PageCollection:
    """Fetch page 1, 2, ... with ``fetch(page)`` (which returns an ApiResponse) and merge ``data``.

    A body that is not a page envelope is returned as the only "page" with ``paginated=False``. With
    ``concurrency`` above 1 (and a ``fetch`` safe to call from threads), the pages after the first are
    requested that many at a time.
    """
    first = fetch(1)
    body = first.json
    result = PageCollection(last_response=first, responses=[first])
    if first.body and not first.is_json:
        raise ProcessMakerError(
            not_json(first.content_type, first.body), status=first.status, method=method, url=url,
            code="not_json", hint="Check url and api_path, and that path is a list endpoint",
        )
    if not is_page(body):
        result.paginated = False
        result.pages = 1
        return result
    meta = dict(body["meta"])
    announced = _int(meta.get("total"))
    if max_items is not None and announced is not None and announced > max_items:
        raise _too_many(announced, max_items, method, url)
    result.items.extend(body["data"])
    result.pages = 1
    last = total_pages(meta) or 1
    prefetch = _Prefetch(fetch, last, concurrency)
    try:
        return _rest(result, body, meta, last, prefetch, max_items, method, url)
    finally:
        prefetch.close()


def _rest(result: PageCollection, body: Any, meta: dict, last: int, fetch: Callable[[int], Any],
          max_items: int | None, method: str, url: str) -> PageCollection:
    """Pages 2 to ``last`` (which a page may move on: the list grew meanwhile), checked and merged in order."""
    page = 1
    previous = body["data"]
    while page < last and body["data"]:
        page += 1
        response = fetch(page)
        body = response.json
        result.responses.append(response)
        result.last_response = response
        if not is_page(body):
            raise ProcessMakerError(
                f"page {page} is not a {{data, meta}} page", status=response.status, method=method, url=url,
                code="bad_page", hint="The endpoint changed shape between pages; retry without all_pages",
            )
        if body["data"] and body["data"] == previous:
            raise ProcessMakerError(
                f"page {page} repeats page {page - 1}: the server ignores the page parameter", status=response.status,
                method=method, url=url, code="bad_page",
                hint="Check url and api_path (a proxy or cache in front of the API?), or set max_items",
            )
        previous = body["data"]
        result.items.extend(body["data"])
        result.pages = page
        meta = dict(body["meta"])
        if max_items is not None and len(result.items) > max_items:
            raise _too_many(len(result.items), max_items, method, url)
        last = total_pages(meta) or last
    if max_items is not None and len(result.items) > max_items:
        raise _too_many(len(result.items), max_items, method, url)
    meta["count"] = len(result.items)
    meta["pages_fetched"] = result.pages
    result.meta = meta
    return result
