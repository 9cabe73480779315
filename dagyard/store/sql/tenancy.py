"""Namespaces and namespace tokens on SQL (`namespaces`, `api_tokens`). Part of
`SqlMetadataStore`; nothing but namespaces and tokens belongs here.

A token reaches this module only as its digest: nothing here can tell a token.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from dagyard.errors import NotFound
from dagyard.store.records import ApiToken, Namespace
from dagyard.store.sql import rows
from dagyard.store.sql.schema import ApiTokenRow, NamespaceRow
from dagyard.store.sql.transactions import Transactions, now, stamped


class TenancyStorage(Transactions):
    """The namespace and token calls of the metadata store."""

    def create_namespace(self, name: str) -> Namespace:
        return self._create(
            stamped(Namespace(name=name), "created_at"),
            NamespaceRow,
            unique=f"A namespace named {name!r} exists already.",
        )

    def get_namespace(self, name: str) -> Namespace:
        rows.check_text("namespaces.name", name)
        with self._session() as session:
            row = session.get(NamespaceRow, name)
            if row is None:
                raise NotFound(
                    f"No namespace named {name!r}; create it with "
                    f"`dagyard namespaces create {name}`."
                )
            return rows.to_record(row, Namespace)

    def list_namespaces(self) -> list[Namespace]:
        return self._list(Namespace, sa.select(NamespaceRow).order_by(NamespaceRow.name))

    def delete_namespace(self, name: str) -> None:
        rows.check_text("namespaces.name", name)
        self._delete(NamespaceRow, name)

    def create_token(self, token: ApiToken) -> ApiToken:
        return self._create(
            stamped(token, "created_at"), ApiTokenRow, parent=(NamespaceRow, token.namespace)
        )

    def find_token(self, digest: str) -> ApiToken | None:
        rows.check_text("api_tokens.digest", digest)
        with self._session() as session:
            row = session.scalars(
                sa.select(ApiTokenRow).where(ApiTokenRow.digest == digest)
            ).one_or_none()
            return None if row is None else rows.to_record(row, ApiToken)

    def list_tokens(self, namespace: str | None = None) -> list[ApiToken]:
        query = sa.select(ApiTokenRow).order_by(ApiTokenRow.namespace, ApiTokenRow.created_at)
        if namespace is not None:
            rows.check_text("api_tokens.namespace", namespace)
            query = query.where(ApiTokenRow.namespace == namespace)
        return self._list(ApiToken, query)

    def revoke_token(self, token_id: str) -> ApiToken:
        current = self._list(
            ApiToken, sa.select(ApiTokenRow).where(ApiTokenRow.token_id == token_id)
        )
        if not current:
            raise NotFound(f"No token with id {token_id!r}; `dagyard tokens list` shows them.")
        if current[0].revoked_at is not None:
            return current[0]
        return self._update(ApiTokenRow, token_id, ApiToken, {"revoked_at": now()})

    def has_tokens(self, at: datetime | None = None) -> bool:
        moment = at or now()
        query = (
            sa.select(ApiTokenRow.token_id)
            .where(
                ApiTokenRow.revoked_at.is_(None),
                sa.or_(ApiTokenRow.expires_at.is_(None), ApiTokenRow.expires_at > moment),
            )
            .limit(1)
        )
        with self._session() as session:
            return session.execute(query).first() is not None
