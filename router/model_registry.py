"""Imports every module that defines tables, so metadata (and Alembic) sees the whole schema."""

import router.models  # noqa: F401
import router.reports.models  # noqa: F401
