"""Where MySQL 8.0 (Aurora MySQL 3) and MariaDB differ, the function decides from what the server
answers. The tests' server is MariaDB, so the MySQL branches are pure functions, checked here with
rows shaped as MySQL 8.0 returns them; the MariaDB branches also run against the real server in
the other tests."""

import pytest
from user_accounts import wildcards_in_database_grants


@pytest.mark.parametrize(
    ("rows", "wildcards"),
    [
        ([], True),  # MariaDB: no partial_revokes variable
        ([("partial_revokes", "OFF")], True),  # MySQL 8.0's default, Aurora MySQL 3's too
        ([("partial_revokes", "ON")], False),  # unescaped `_` and `%` are then literal
    ],
)
def test_database_grants_read_wildcards_unless_partial_revokes_is_on(rows, wildcards):
    assert wildcards_in_database_grants(rows) is wildcards
