"""Route modules; each exposes ``ENDPOINTS``, a list of :class:`gateway.endpoints.Endpoint`."""

from gateway.routes import (
    accounts,
    appraisal,
    auth,
    calendar,
    contracts,
    deliveries,
    demand_lifecycle,
    demands,
    departments,
    enterprises,
    grids,
    imports,
    inbox,
    ledger,
    listings,
    me,
    meetings,
    policies,
    sla,
    tasks,
    visits,
)

API_ENDPOINTS = [
    *auth.ENDPOINTS,
    *me.ENDPOINTS,
    *accounts.ENDPOINTS,
    *departments.ENDPOINTS,
    *grids.ENDPOINTS,
    *imports.ENDPOINTS,  # before enterprises: /enterprises/export.xlsx is not an id
    *enterprises.ENDPOINTS,
    *contracts.ENDPOINTS,
    *visits.ENDPOINTS,
    *ledger.ENDPOINTS,  # before demands: /demands/... views are not ids
    *demands.ENDPOINTS,
    *demand_lifecycle.ENDPOINTS,
    *tasks.ENDPOINTS,
    *inbox.ENDPOINTS,
    *deliveries.ENDPOINTS,
    *calendar.ENDPOINTS,
    *sla.ENDPOINTS,
    *policies.ENDPOINTS,
    *listings.ENDPOINTS,
    *appraisal.ENDPOINTS,
    *meetings.ENDPOINTS,
]
