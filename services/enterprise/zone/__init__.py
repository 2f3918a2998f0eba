"""区域资源模块: the zone's key resources, part of the registry service.

- carriers (载体): incubators, industrial parks, office and factory buildings; their tenants,
  occupancy and vacancy (:mod:`.carriers`);
- projects under construction (在建项目) and their milestones; completion acceptance and
  production bring the investor into scope (:mod:`.projects`);
- research institutes (科研机构) and the enterprises that work with them (:mod:`.institutes`);
- leading industries (主导产业) and their chain maps (产业链图谱, 补链) (:mod:`.industries`);
- economic figures (经济运行): monthly or quarterly indicators per enterprise, imported from
  the statistics office's XLSX (:mod:`.figure_import`), aggregated with year-on-year growth and
  shared by permission (:mod:`.figures`, :mod:`.disclosure`);
- demo data (:mod:`.demo`).

Plain modules over a SQLAlchemy session; the RPC entrypoints are the mixins in :mod:`.api`.
"""
