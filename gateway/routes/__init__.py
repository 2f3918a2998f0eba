"""Route modules; each exposes ``ENDPOINTS``, a list of :class:`gateway.endpoints.Endpoint`."""

from gateway.routes import calendar, demands, inbox, me

API_ENDPOINTS = [*me.ENDPOINTS, *demands.ENDPOINTS, *inbox.ENDPOINTS, *calendar.ENDPOINTS]
