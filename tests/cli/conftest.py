"""The ``cli`` fixture: run ``meritline`` on a fresh SQLite file and check its exit status."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from meritline.cli.main import app


@pytest.fixture
def cli(sqlite_url: str):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def run(*args: str, code: int = 0, **env: str):  # type: ignore[no-untyped-def]
        result = runner.invoke(
            app, list(args), env={"MERITLINE_DATABASE_URL": sqlite_url, "COLUMNS": "200", **env}
        )
        assert result.exit_code == code, (result.exit_code, result.output, result.exception)
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit
        ), result.exception
        return result

    return run
