"""zone resources (区域资源): carriers and tenancies, projects under construction and their
milestones, research institutes and partners, leading industries and chain links, monthly or
quarterly economic figures per enterprise

Revision ID: zone01
Revises: 0006
Create Date: 2026-12-03 17:46:26.405929
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'zone01'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('zone_leading_industries',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('industry_codes', postgresql.ARRAY(sa.String(length=6)), nullable=False),
    sa.Column('tags', postgresql.ARRAY(sa.String(length=40)), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    schema='enterprise'
    )
    op.create_table('zone_chain_links',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('industry_id', sa.String(length=40), nullable=False),
    sa.Column('stage', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('industry_codes', postgresql.ARRAY(sa.String(length=6)), nullable=False),
    sa.Column('keywords', postgresql.ARRAY(sa.String(length=40)), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("stage IN ('upstream', 'midstream', 'downstream')", name='ck_zone_chain_links_stage'),
    sa.ForeignKeyConstraint(['industry_id'], ['enterprise.zone_leading_industries.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    schema='enterprise'
    )
    op.create_index('uq_zone_chain_links_name', 'zone_chain_links', ['industry_id', 'name'], unique=True, schema='enterprise')
    op.create_table('zone_carriers',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('operator', sa.String(length=200), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('geometry', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('floor_area', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('leasable_area', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('grid_id', sa.String(length=20), nullable=True),
    sa.Column('leasing_contact', sa.String(length=100), nullable=True),
    sa.Column('leasing_phone', sa.String(length=30), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('incubator', 'industrial_park', 'office_building', 'factory_building')", name='ck_zone_carriers_kind'),
    sa.ForeignKeyConstraint(['grid_id'], ['enterprise.grids.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('grid_id'),
    sa.UniqueConstraint('name'),
    schema='enterprise'
    )
    op.create_index(op.f('ix_enterprise_zone_carriers_kind'), 'zone_carriers', ['kind'], unique=False, schema='enterprise')
    op.create_table('zone_indicator_values',
    sa.Column('enterprise_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('period_kind', sa.String(length=7), nullable=False),
    sa.Column('period', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('output_value', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('revenue', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('tax', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('employees', sa.Integer(), nullable=True),
    sa.Column('rd_spend', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('source', sa.String(length=30), nullable=False),
    sa.Column('imported_by', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(period_kind = 'month' AND period BETWEEN 1 AND 12) OR (period_kind = 'quarter' AND period BETWEEN 1 AND 4)", name='ck_zone_indicator_values_period'),
    sa.CheckConstraint("period_kind IN ('month', 'quarter')", name='ck_zone_indicator_values_period_kind'),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.enterprises.id'], ),
    sa.PrimaryKeyConstraint('enterprise_id', 'year', 'period_kind', 'period'),
    schema='enterprise'
    )
    op.create_index('ix_zone_indicator_values_period', 'zone_indicator_values', ['year', 'period_kind', 'period'], unique=False, schema='enterprise')
    op.create_table('zone_institutes',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('industry_codes', postgresql.ARRAY(sa.String(length=6)), nullable=False),
    sa.Column('tags', postgresql.ARRAY(sa.String(length=40)), nullable=False),
    sa.Column('host_kind', sa.String(length=20), nullable=False),
    sa.Column('host_enterprise_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('host_name', sa.String(length=200), nullable=True),
    sa.Column('platforms', postgresql.ARRAY(sa.String(length=200)), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('recognized_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("host_kind IN ('enterprise', 'university', 'research_institute', 'other')", name='ck_zone_institutes_host_kind'),
    sa.CheckConstraint("level IN ('national', 'provincial', 'municipal')", name='ck_zone_institutes_level'),
    sa.ForeignKeyConstraint(['host_enterprise_id'], ['enterprise.enterprises.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    schema='enterprise'
    )
    op.create_index(op.f('ix_enterprise_zone_institutes_level'), 'zone_institutes', ['level'], unique=False, schema='enterprise')
    op.create_table('zone_projects',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('investor_enterprise_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('investor_name', sa.String(length=200), nullable=False),
    sa.Column('investor_credit_code', sa.String(length=18), nullable=True),
    sa.Column('site_address', sa.String(length=300), nullable=False),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('industry_code', sa.String(length=6), nullable=True),
    sa.Column('planned_investment', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('completed_investment', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('department_id', sa.String(length=40), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('scope_entered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['enterprise.departments.id'], ),
    sa.ForeignKeyConstraint(['investor_enterprise_id'], ['enterprise.enterprises.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    schema='enterprise'
    )
    op.create_index(op.f('ix_enterprise_zone_projects_department_id'), 'zone_projects', ['department_id'], unique=False, schema='enterprise')
    op.create_index(op.f('ix_enterprise_zone_projects_investor_enterprise_id'), 'zone_projects', ['investor_enterprise_id'], unique=False, schema='enterprise')
    op.create_table('zone_tenancies',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('carrier_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('enterprise_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('area', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('moved_in_on', sa.Date(), nullable=False),
    sa.Column('moved_out_on', sa.Date(), nullable=True),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['carrier_id'], ['enterprise.zone_carriers.id'], ),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.enterprises.id'], ),
    sa.PrimaryKeyConstraint('id'),
    schema='enterprise'
    )
    op.create_index('ix_zone_tenancies_enterprise', 'zone_tenancies', ['enterprise_id'], unique=False, schema='enterprise')
    op.create_index('uq_zone_tenancies_open', 'zone_tenancies', ['carrier_id', 'enterprise_id'], unique=True, schema='enterprise', postgresql_where=sa.text('moved_out_on IS NULL'))
    op.create_table('zone_institute_partners',
    sa.Column('institute_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('enterprise_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.enterprises.id'], ),
    sa.ForeignKeyConstraint(['institute_id'], ['enterprise.zone_institutes.id'], ),
    sa.PrimaryKeyConstraint('institute_id', 'enterprise_id'),
    schema='enterprise'
    )
    op.create_index(op.f('ix_enterprise_zone_institute_partners_enterprise_id'), 'zone_institute_partners', ['enterprise_id'], unique=False, schema='enterprise')
    op.create_table('zone_project_milestones',
    sa.Column('project_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('milestone', sa.String(length=30), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=True),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('delay_notified_for', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=64), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("milestone IN ('land', 'permits', 'construction_start', 'topping_out', 'completion_acceptance', 'production')", name='ck_zone_project_milestones_milestone'),
    sa.ForeignKeyConstraint(['project_id'], ['enterprise.zone_projects.id'], ),
    sa.PrimaryKeyConstraint('project_id', 'milestone'),
    schema='enterprise'
    )
    op.create_index('ix_zone_milestones_open', 'zone_project_milestones', ['planned_on'], unique=False, schema='enterprise', postgresql_where=sa.text('done_on IS NULL AND planned_on IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_zone_milestones_open', table_name='zone_project_milestones', schema='enterprise', postgresql_where=sa.text('done_on IS NULL AND planned_on IS NOT NULL'))
    op.drop_table('zone_project_milestones', schema='enterprise')
    op.drop_index(op.f('ix_enterprise_zone_institute_partners_enterprise_id'), table_name='zone_institute_partners', schema='enterprise')
    op.drop_table('zone_institute_partners', schema='enterprise')
    op.drop_index('uq_zone_tenancies_open', table_name='zone_tenancies', schema='enterprise', postgresql_where=sa.text('moved_out_on IS NULL'))
    op.drop_index('ix_zone_tenancies_enterprise', table_name='zone_tenancies', schema='enterprise')
    op.drop_table('zone_tenancies', schema='enterprise')
    op.drop_index(op.f('ix_enterprise_zone_projects_investor_enterprise_id'), table_name='zone_projects', schema='enterprise')
    op.drop_index(op.f('ix_enterprise_zone_projects_department_id'), table_name='zone_projects', schema='enterprise')
    op.drop_table('zone_projects', schema='enterprise')
    op.drop_index(op.f('ix_enterprise_zone_institutes_level'), table_name='zone_institutes', schema='enterprise')
    op.drop_table('zone_institutes', schema='enterprise')
    op.drop_index('ix_zone_indicator_values_period', table_name='zone_indicator_values', schema='enterprise')
    op.drop_table('zone_indicator_values', schema='enterprise')
    op.drop_index(op.f('ix_enterprise_zone_carriers_kind'), table_name='zone_carriers', schema='enterprise')
    op.drop_table('zone_carriers', schema='enterprise')
    op.drop_index('uq_zone_chain_links_name', table_name='zone_chain_links', schema='enterprise')
    op.drop_table('zone_chain_links', schema='enterprise')
    op.drop_table('zone_leading_industries', schema='enterprise')
