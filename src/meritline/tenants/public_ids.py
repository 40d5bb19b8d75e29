"""Ids handed to outsiders that name their tenant: ``<prefix>_<tenant id>_<random>``.

API tokens (``ml_``) and webhook ids (``wh_``) carry their tenant so a request can open its
transaction in the right tenant before anything is looked up; the random part is what makes
them unguessable.
"""

from __future__ import annotations

import secrets

MAX_TENANT_DIGITS = 18  # fits a BIGINT


def new_public_id(prefix: str, tenant_id: int, *, random_bytes: int) -> str:
    """A fresh id for ``tenant_id`` with ``random_bytes`` of randomness (URL-safe)."""
    return f"{prefix}_{tenant_id}_{secrets.token_urlsafe(random_bytes)}"


def split_public_id(public_id: str, prefix: str) -> tuple[int, str] | None:
    """``(tenant id, random part)`` of a well-formed id with ``prefix``; ``None`` otherwise."""
    given, _, rest = public_id.partition("_")
    tenant, _, random_part = rest.partition("_")
    digits = tenant.isascii() and tenant.isdigit() and len(tenant) <= MAX_TENANT_DIGITS
    if given != prefix or not digits or not random_part:
        return None
    return int(tenant), random_part
