"""The zone resources' RPC entrypoints (区域资源), one mixin per area; :class:`ZoneApi`
composes them for the registry's service class (which gives ``db`` and ``caller``)."""

from __future__ import annotations

from services.enterprise.zone.api.carriers import CarriersApi
from services.enterprise.zone.api.economy import EconomyApi
from services.enterprise.zone.api.industries import IndustriesApi
from services.enterprise.zone.api.institutes import InstitutesApi
from services.enterprise.zone.api.projects import ProjectsApi


class ZoneApi(CarriersApi, ProjectsApi, InstitutesApi, IndustriesApi, EconomyApi):
    """区域资源: carriers, projects, institutes, leading industries, economic figures."""


__all__ = ["ZoneApi"]
