"""The seed post's demo objects: the `prices` table with three rows, created idempotently.

The multi-user template's AppUser asks for it (DemoSchema "true"); the README demo reads these rows
as the application user.
"""

import logging

from user_accounts import Accounts, quote_identifier

logger = logging.getLogger(__name__)

DEMO_TABLE = "prices"
DEMO_ROWS = ((1, "Coffee", 250), (2, "Tea", 200), (3, "Cake", 450))


def create_demo_schema(accounts: Accounts, database: str) -> None:
    schema = quote_identifier(database)
    table = f"{schema}.{quote_identifier(DEMO_TABLE)}"
    accounts.run(f"CREATE DATABASE IF NOT EXISTS {schema}", doing=f"create database {schema}")
    accounts.run(
        f"CREATE TABLE IF NOT EXISTS {table} ("
        "id INT NOT NULL PRIMARY KEY, "
        "item VARCHAR(64) NOT NULL, "
        "price_cents INT NOT NULL)",
        doing=f"create table {table}",
    )
    rows = ", ".join(["(%s, %s, %s)"] * len(DEMO_ROWS))
    accounts.run(  # the table name is a validated, backquoted identifier; values are bound
        f"INSERT IGNORE INTO {table} (id, item, price_cents) VALUES {rows}",  # noqa: S608
        [value for row in DEMO_ROWS for value in row],
        doing=f"insert the demo rows into {table}",
    )
    logger.info("Demo schema ready in %s", schema)
