"""The supply/demand board's contract (供求信息互通平台): what callers send and what they get.

The gateway imports this module for request validation and the OpenAPI document.

One module per area, mirroring ``api/``; this package re-exports every name so that
``from services.supplydemand.schemas import X`` keeps working."""

from services.supplydemand.schemas.base import (
    UUID_PATTERN,
    FreeText,
    PageQuery,
    Uuid,
)
from services.supplydemand.schemas.dockings import (
    DOCKING_STATES,
    DockingContactSchema,
    DockingContactsSchema,
    DockingCreateSchema,
    DockingDecisionSchema,
    DockingPageSchema,
    DockingQuerySchema,
    DockingSchema,
    DockingStepSchema,
)
from services.supplydemand.schemas.listings import (
    CATEGORIES,
    INDUSTRY_PATTERN,
    LISTING_STATES,
    MAX_VALIDITY_DAYS,
    SIDES,
    BoardStatsSchema,
    CountSchema,
    FactorSchema,
    IndustryCode,
    ListingCreateSchema,
    ListingPageSchema,
    ListingQuerySchema,
    ListingSchema,
    ListingUpdateSchema,
    MatchedListingSchema,
    MatchPageSchema,
    MatchQuerySchema,
    MatchSchema,
    ModerationSchema,
    SearchQuerySchema,
)

__all__ = [
    "BoardStatsSchema",
    "CATEGORIES",
    "CountSchema",
    "DOCKING_STATES",
    "DockingContactSchema",
    "DockingContactsSchema",
    "DockingCreateSchema",
    "DockingDecisionSchema",
    "DockingPageSchema",
    "DockingQuerySchema",
    "DockingSchema",
    "DockingStepSchema",
    "FactorSchema",
    "FreeText",
    "INDUSTRY_PATTERN",
    "IndustryCode",
    "LISTING_STATES",
    "ListingCreateSchema",
    "ListingPageSchema",
    "ListingQuerySchema",
    "ListingSchema",
    "ListingUpdateSchema",
    "MatchedListingSchema",
    "MatchPageSchema",
    "MatchQuerySchema",
    "MatchSchema",
    "MAX_VALIDITY_DAYS",
    "ModerationSchema",
    "PageQuery",
    "SearchQuerySchema",
    "SIDES",
    "Uuid",
    "UUID_PATTERN",
]
