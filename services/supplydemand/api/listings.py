"""RPC entrypoints of listings (供求信息): publish, read, change, close, moderate, matches,
search, stats, and the expiry sweep's timer. The rules are in :mod:`services.supplydemand.board`.
"""

from __future__ import annotations

import logging
from typing import Any

from nameko.timer import timer

from common.auth import Principal, Role
from common.concurrency import expected_version as checked_version
from common.db import WorkerDatabase
from common.dependencies import CallerContext
from common.entrypoints import rpc
from common.errors import Forbidden, field_error, invalid_fields
from common.validation import load
from services.supplydemand import access, board, metrics
from services.supplydemand.api.registry import RegistryApi
from services.supplydemand.dependencies import Board, expiry_interval
from services.supplydemand.schemas import (
    BoardStatsSchema,
    ListingCreateSchema,
    ListingQuerySchema,
    ListingSchema,
    ListingUpdateSchema,
    MatchPageSchema,
    MatchQuerySchema,
    ModerationSchema,
    SearchQuerySchema,
)

log = logging.getLogger(__name__)

EXPIRY_SWEEP_SECONDS = expiry_interval()
listing_schema = ListingSchema()
match_page_schema = MatchPageSchema()


def acting_enterprise(principal: Principal, named: str | None) -> str:
    """The enterprise the caller acts for: an enterprise user its own; grid staff the one
    they name (the registry then checks it is in their grids)."""
    access.require_publisher(principal)
    if principal.role == Role.ENTERPRISE:
        own = access.own_enterprise(principal)
        if named is not None and named != own:
            raise invalid_fields({"enterprise_id": [field_error(
                "listing.other_enterprise", "an enterprise acts only for itself")]})
        return own
    if named is None:
        raise invalid_fields({"enterprise_id": [field_error(
            "field.required", "required when grid staff act for an enterprise")]})
    return named


class ListingsApi(RegistryApi):
    db: WorkerDatabase
    caller: CallerContext
    board: Board
    enterprise: Any

    @rpc
    def publish_listing(self, payload: dict) -> dict:
        """点对面发布: publish a supply or demand listing; matched pairs above the threshold
        are notified (``listing_matched``)."""
        principal = self.caller.principal
        access.require_publisher(principal)
        data = load(ListingCreateSchema(), payload)
        enterprise_id = acting_enterprise(principal, data.pop("enterprise_id", None))
        record = self._synced_enterprise(enterprise_id)
        with self.db.transaction() as session:
            enterprise = self._refresh(session, record)
            listing, notified = board.publish(session, principal, data, enterprise,
                                              self.board.threshold, self.caller.call_id)
            result = listing_schema.dump(board.dump(listing, enterprise))
        if notified:
            metrics.MATCHES.inc(len(notified))
        return result

    @rpc
    def get_listing(self, listing_id: str) -> dict:
        with self.db.transaction() as session:
            listing, enterprise = board.visible(session, self.caller.principal, listing_id)
            return listing_schema.dump(board.dump(listing, enterprise))

    @rpc
    def list_listings(self, query: dict) -> dict:
        q = load(ListingQuerySchema(), query)
        with self.db.transaction() as session:
            page = board.list_listings(session, self.caller.principal, q)
        return {**page, "items": ListingSchema(many=True).dump(page["items"])}

    @rpc
    def update_listing(self, listing_id: str, payload: dict) -> dict:
        data = load(ListingUpdateSchema(), payload)
        with self.db.transaction() as session:
            listing, enterprise, notified = board.change(
                session, self.caller.principal, listing_id, data, self.board.threshold,
                self.caller.call_id)
            result = listing_schema.dump(board.dump(listing, enterprise))
        if notified:
            metrics.MATCHES.inc(len(notified))
        return result

    @rpc
    def close_listing(self, listing_id: str, expected_version: int | None = None) -> dict:
        expected = checked_version(expected_version)
        with self.db.transaction() as session:
            listing, enterprise = board.close(session, self.caller.principal, listing_id,
                                              expected)
            return listing_schema.dump(board.dump(listing, enterprise))

    @rpc
    def hide_listing(self, listing_id: str, payload: dict,
                     expected_version: int | None = None) -> dict:
        """屏蔽: platform staff take a listing off the board, with a reason."""
        access.require_moderator(self.caller.principal)
        data = load(ModerationSchema(), payload)
        expected = checked_version(expected_version)
        with self.db.transaction() as session:
            listing, enterprise = board.hide(session, self.caller.principal, listing_id,
                                             data["reason"], expected)
            return listing_schema.dump(board.dump(listing, enterprise))

    @rpc
    def restore_listing(self, listing_id: str, payload: dict,
                        expected_version: int | None = None) -> dict:
        """恢复: platform staff put a hidden listing back, with a reason."""
        access.require_moderator(self.caller.principal)
        data = load(ModerationSchema(), payload)
        expected = checked_version(expected_version)
        with self.db.transaction() as session:
            listing, enterprise, notified = board.restore(
                session, self.caller.principal, listing_id, data["reason"],
                self.board.threshold, expected, self.caller.call_id)
            result = listing_schema.dump(board.dump(listing, enterprise))
        if notified:
            metrics.MATCHES.inc(len(notified))
        return result

    @rpc
    def listing_matches(self, listing_id: str, query: dict) -> dict:
        """点对点: the other side's live listings ranked for this one, with the reasons."""
        q = load(MatchQuerySchema(), query)
        with self.db.transaction() as session:
            listing, _enterprise = board.visible(session, self.caller.principal, listing_id)
            ranked = board.matches_for(session, listing)
        return match_page_schema.dump(board.page(ranked, q["page"], q["per_page"],
                                                    self.caller.language))

    @rpc
    def search_listings(self, query: dict) -> dict:
        """Browse the board: live listings ranked like matches (words, industry, category,
        region, freshness)."""
        self.caller.principal  # noqa: B018 -- any authenticated caller
        q = load(SearchQuerySchema(), query)
        with self.db.transaction() as session:
            ranked = board.search(session, q)
        return match_page_schema.dump(board.page(ranked, q["page"], q["per_page"],
                                                    self.caller.language))

    @rpc
    def board_stats(self) -> dict:
        """Listings by side and status, pairs notified, dockings by outcome (staff)."""
        principal = self.caller.principal
        if not access.reads_all(principal):
            raise Forbidden("{role} may not read the board's figures",
                            code="listing.stats_forbidden",
                            params={"role": principal.role_label})
        with self.db.transaction() as session:
            return BoardStatsSchema().dump(board.stats(session))

    @timer(interval=EXPIRY_SWEEP_SECONDS)
    def expiry_tick(self) -> None:
        """Mark listings past their end date expired. Every replica runs it; SKIP LOCKED
        keeps them apart. Never raises: a failed sweep is retried on the next tick."""
        try:
            count = board.expire_due(self.db.transaction)
        except Exception:
            metrics.SWEEP_FAILURES.inc()
            log.exception("listing expiry sweep failed; retrying on the next tick")
            return
        if count:
            metrics.EXPIRED.inc(count)
            log.info("listing expiry sweep: %s expired", count)
