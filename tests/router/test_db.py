from __future__ import annotations

import pytest
from alembic import command
from click.testing import CliRunner

from router import db


def test_an_out_of_date_schema_is_refused_with_the_command_that_fixes_it(tmp_path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with pytest.raises(db.SchemaOutOfDate, match="run `engage db upgrade`"):
        db.ensure_schema_current(engine)
    db.upgrade(engine)
    db.ensure_schema_current(engine)
    command.downgrade(db.alembic_config(engine), "0001")
    if db.current_revisions(engine) != db.head_revisions():
        with pytest.raises(db.SchemaOutOfDate, match="is at revision 0001"):
            db.ensure_schema_current(engine)


def test_the_cli_refuses_to_start_on_an_empty_database(tmp_path, monkeypatch) -> None:
    from router import cli
    from router.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    try:
        result = CliRunner().invoke(cli.main, ["queue", "list"])
    finally:
        get_settings.cache_clear()
        db.get_engine.cache_clear()
    assert result.exit_code == 1
    assert "run `engage db upgrade`" in result.output
