"""Imports every module that defines tables, so metadata (and Alembic) sees the whole schema."""

import router.claims
import router.idempotency
import router.models
import router.notes
import router.replies
import router.reports.models
import router.users  # noqa: F401
