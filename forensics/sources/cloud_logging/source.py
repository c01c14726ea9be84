"""``entries.list`` pages with the real ``google-cloud-logging`` client, raw, with their page tokens.

``Client.list_entries`` hides the page tokens (it returns a generator, so a 429 cannot resume where
it stopped) and builds a ``LogEntry`` object per entry; the GAPIC ``LoggingServiceV2Client`` pager
shows tokens but speaks gRPC only and turns each entry into a protobuf. So each page goes through
the client's JSON API helper (``client.logging_api.api_request``: the library's own authorized
HTTP connection) as raw JSON text, split into one text per entry (``pages.split_page``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from forensics.exceptions import PullError, UsageError
from forensics.sources.cloud_logging.connect import Target, make_client
from forensics.sources.cloud_logging.errors import translate
from forensics.sources.cloud_logging.pages import PageFormatError, split_page
from forensics.sources.protocol import Page, Query

PAGE_SIZE = 1000  # the API's maximum: fewest requests against a 60-per-minute read quota


class CloudLoggingSource:
    """The entries of one project in Cloud Logging (Google, or a local server at ``target.endpoint``).

    The client is made on the first page, so a pull the cache answers needs no credentials.
    """

    def __init__(self, target: Target, *, client: Any = None, page_size: int = PAGE_SIZE):
        """
        Args:
            target: project and endpoint (``resolve_target``).
            client: a ready ``google.cloud.logging.Client`` on the HTTP transport; made from
                ``target`` when None.
            page_size: entries per request (at most 1000).
        """
        self.target = target
        self.where = target.where
        self.origin = f"cloud-logging:{target.project}"
        self.cache_identity: tuple[str, ...] | None = (target.endpoint or "google", target.project)
        self.page_size = page_size
        self._client = client
        self._request: Callable[..., Any] | None = None

    def page(self, query: Query, token: str | None) -> Page:
        """One ``entries.list`` page of ``query.filter`` (which holds the window), from ``token``."""
        body: dict[str, Any] = {
            "resourceNames": [f"projects/{self.target.project}"],
            "filter": query.filter,
            "orderBy": query.order_by,
            "pageSize": self.page_size,
        }
        if token:
            body["pageToken"] = token
        try:
            raw = self._api_request()(
                method="POST", path="/entries:list", data=body, expect_json=False
            )
        except Exception as err:  # translate() decides which errors are ours
            mapped = translate(err, self.target)
            if mapped is None:
                raise
            raise mapped from None
        try:
            texts, next_token = split_page(raw)
        except PageFormatError as err:
            raise PullError(f"{self.where} answered entries.list with {err}") from None
        return Page(texts, next_token)

    def _api_request(self) -> Callable[..., Any]:
        if self._request is None:
            client = self._client if self._client is not None else make_client(self.target)
            request = getattr(client.logging_api, "api_request", None)
            if request is None:  # the gRPC transport: it has no raw pages
                raise UsageError(
                    "pulling needs the client's HTTP transport: "
                    "google.cloud.logging.Client(..., _use_grpc=False)"
                )
            self._request = request
        return self._request
