"""staff register: the municipality's identity provider provisions staff over SCIM 2.0

``staff_member`` gains ``active`` (false: deactivated or deleted in the register; the row stays,
network history names them), and the register's SCIM resource: ``scim_id`` (the resource's id),
``external_id`` (the identity provider's), ``given_name``/``family_name`` and ``deleted_at`` (a
DELETE; the user is gone for SCIM, inactive for plans). Existing rows (sources 'token', 'demo') stay
active and have no SCIM resource.

Revision ID: e5a9c3f1d7b2
Revises: c41e7a9d2b50
Create Date: 2026-12-01 21:45:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision: str = 'e5a9c3f1d7b2'
down_revision: Union[str, Sequence[str], None] = 'c41e7a9d2b50'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('staff_member', sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False))
    op.add_column('staff_member', sa.Column('scim_id', postgresql.UUID(as_uuid=True), nullable=True))
    op.add_column('staff_member', sa.Column('external_id', sa.String(length=200), nullable=True))
    op.add_column('staff_member', sa.Column('given_name', sa.String(length=200), nullable=True))
    op.add_column('staff_member', sa.Column('family_name', sa.String(length=200), nullable=True))
    op.add_column('staff_member', sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
    op.create_unique_constraint(op.f('uq_staff_member_scim_id'), 'staff_member', ['scim_id'])
    op.create_index(op.f('ix_staff_member_external_id'), 'staff_member', ['external_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_staff_member_external_id'), table_name='staff_member')
    op.drop_constraint(op.f('uq_staff_member_scim_id'), 'staff_member', type_='unique')
    for column in ('deleted_at', 'family_name', 'given_name', 'external_id', 'scim_id', 'active'):
        op.drop_column('staff_member', column)
