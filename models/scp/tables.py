"""SCP tables: tenants and their OAuth clients, the vertical catalogue, integrations with their
versions, data contracts with theirs, registry templates, and the API call log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.columns import BigId, utcnow
from core.database import Base
from core.oauth.clients import ClientColumns

ADMIN, PLATFORM = "admin", "platform"  # the roles of clients made by command
INTEGRATION = "integration"  # the role of the client an integration's activation issues
ROLES = (ADMIN, PLATFORM, INTEGRATION)


class Tenant(Base):
    """An organisation using SCP; everything it owns is invisible to every other tenant."""

    __tablename__ = "scp_tenants"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ScpClientRow(ClientColumns, Base):
    """A client of SCP's token endpoint. A tenant's `admin` client acts in its tenant; a
    `platform` client (no tenant) may only instantiate registry templates across tenants.
    Its tokens carry `tenant_id` and `role`."""

    __tablename__ = "scp_oauth_clients"

    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("scp_tenants.tenant_id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    # An integration's own client (role `integration`): the integration its tokens act on.
    integration_id: Mapped[str | None] = mapped_column(String(36), index=True)


class Vertical(Base):
    """A vertical (line of service) of the deployment's catalogue; integrations and templates
    name only these."""

    __tablename__ = "scp_verticals"

    vertical_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Integration(Base):
    """An external system connected to SCP, in its latest version, with its lifecycle: its
    status, when it last entered each status, and who asked for and granted its review."""

    __tablename__ = "scp_integrations"
    __table_args__ = (Index("ix_scp_integrations_tenant_created", "tenant_id", "created_at"),)

    integration_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("scp_tenants.tenant_id"))
    integration_name: Mapped[str] = mapped_column(String(200))
    partner_name: Mapped[str] = mapped_column(String(200))
    partner_type: Mapped[str] = mapped_column(String(64))
    vertical_ids: Mapped[list[str]] = mapped_column(JSON)
    active_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    active_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    data_contract_ref: Mapped[str | None] = mapped_column(String(200))
    template_id: Mapped[str | None] = mapped_column(String(36))
    auth_client_id: Mapped[str | None] = mapped_column(String(128))
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), index=True)
    # What a deprecated integration may still exchange: what it could when it was deprecated.
    deprecated_from: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    requested_by: Mapped[str | None] = mapped_column(String(128))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str | None] = mapped_column(String(128))
    review_notes: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(128))
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    restricted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deprecated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_reason_code: Mapped[str | None] = mapped_column(String(64))
    last_reason_text: Mapped[str | None] = mapped_column(Text)
    last_reason_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IntegrationVertical(Base):
    """Which verticals an integration serves, one row each, for the `vertical_id` filter."""

    __tablename__ = "scp_integration_verticals"

    integration_id: Mapped[str] = mapped_column(
        ForeignKey("scp_integrations.integration_id", ondelete="CASCADE"), primary_key=True
    )
    vertical_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class IntegrationVersion(Base):
    """One immutable version of an integration's registration fields: the first as created,
    then one per accepted update."""

    __tablename__ = "scp_integration_versions"

    integration_id: Mapped[str] = mapped_column(ForeignKey("scp_integrations.integration_id"), primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))


class Contract(Base):
    """A data contract of an integration, in its latest version: what may be exchanged, for
    which purpose, under which consents, in which window."""

    __tablename__ = "scp_contracts"
    __table_args__ = (Index("ix_scp_contracts_integration", "integration_id", "created_at"),)

    contract_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("scp_tenants.tenant_id"), index=True)
    integration_id: Mapped[str] = mapped_column(ForeignKey("scp_integrations.integration_id"))
    status: Mapped[str] = mapped_column(String(16))
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    purpose: Mapped[str] = mapped_column(Text)
    data_categories: Mapped[list[str]] = mapped_column(JSON)
    field_list: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    consent_requirements: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    active_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    active_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    archive_reason_code: Mapped[str | None] = mapped_column(String(64))
    archive_reason_text: Mapped[str | None] = mapped_column(Text)


class ContractVersion(Base):
    """One immutable version of a contract's terms: the first as added, then one per update."""

    __tablename__ = "scp_contract_versions"

    contract_id: Mapped[str] = mapped_column(ForeignKey("scp_contracts.contract_id"), primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))


class Template(Base):
    """An integration template of the registry: a tenant's own (`tenant_id`), or a platform
    template every tenant sees (no `tenant_id`)."""

    __tablename__ = "scp_templates"

    template_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("scp_tenants.tenant_id"), index=True)
    template_name: Mapped[str] = mapped_column(String(200))
    partner_type: Mapped[str] = mapped_column(String(64))
    vertical_ids: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    contract_template: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))


class AuditEntry(Base):
    """One API call, refused ones included: append-only, written in a transaction of its own."""

    __tablename__ = "scp_audit_log"
    __table_args__ = (Index("ix_scp_audit_log_tenant_at", "tenant_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    request_id: Mapped[str] = mapped_column(String(128), index=True)
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    client_id: Mapped[str | None] = mapped_column(String(128))
    operation: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(2048))
    target: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)


class Exchange(Base):
    """One push or pull request that named an integration the caller may see, whatever its
    outcome: the exchange log entry, and (for a push) the work a worker still has to do."""

    __tablename__ = "scp_exchanges"
    __table_args__ = (
        Index("ix_scp_exchanges_integration_received", "integration_id", "received_at"),
        Index("ix_scp_exchanges_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    exchange_id: Mapped[str] = mapped_column(String(36), unique=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("scp_tenants.tenant_id"))
    integration_id: Mapped[str] = mapped_column(ForeignKey("scp_integrations.integration_id"))
    contract_id: Mapped[str | None] = mapped_column(String(36))
    contract_version_id: Mapped[int | None] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    format: Mapped[str | None] = mapped_column(String(8))
    client_id: Mapped[str] = mapped_column(String(128))
    request_id: Mapped[str] = mapped_column(String(128))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    record_count: Mapped[int | None] = mapped_column(Integer)
    omitted_record_count: Mapped[int | None] = mapped_column(Integer)
    masked_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    failure: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A push's checked records wait in this file for the worker; a csv or xml pull's output is here.
    file_path: Mapped[str | None] = mapped_column(String(500))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DataRecordRow(Base):
    """One record a push stored for its tenant: its fields, and the consents its data subject gave."""

    __tablename__ = "scp_records"
    __table_args__ = (Index("ix_scp_records_tenant_id", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("scp_tenants.tenant_id"))
    integration_id: Mapped[str] = mapped_column(String(36))
    contract_id: Mapped[str] = mapped_column(String(36))
    exchange_id: Mapped[str] = mapped_column(String(36), index=True)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    consents: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Webhook(Base):
    """A subscription of a target URL to an integration's events."""

    __tablename__ = "scp_webhooks"
    __table_args__ = (Index("ix_scp_webhooks_integration", "integration_id", "created_at"),)

    webhook_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("scp_tenants.tenant_id"), index=True)
    integration_id: Mapped[str] = mapped_column(ForeignKey("scp_integrations.integration_id"))
    target_url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    active_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    active_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    public_key_id: Mapped[str] = mapped_column(String(68))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    secret_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disable_reason_code: Mapped[str | None] = mapped_column(String(64))
    disable_reason_text: Mapped[str | None] = mapped_column(Text)


class WebhookKey(Base):
    """An Ed25519 key pair a webhook's deliveries are signed with: the current one, or the one
    before it while its overlap lasts (`expires_at`)."""

    __tablename__ = "scp_webhook_keys"

    key_id: Mapped[str] = mapped_column(String(68), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("scp_webhooks.webhook_id"), index=True)
    private_key: Mapped[str] = mapped_column(String(64))  # the raw 32 bytes, base64
    public_key: Mapped[str] = mapped_column(String(64))  # the raw 32 bytes, base64url (a JWK's `x`)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # None while current
