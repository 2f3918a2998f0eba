"""Route modules; each exposes ``ENDPOINTS``, a list of :class:`gateway.endpoints.Endpoint`."""

from gateway.routes import (
    accounts,
    auth,
    calendar,
    contracts,
    demands,
    departments,
    enterprises,
    grids,
    imports,
    inbox,
    me,
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
    *demands.ENDPOINTS,
    *inbox.ENDPOINTS,
    *calendar.ENDPOINTS,
]
