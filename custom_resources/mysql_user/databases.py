"""CreateDatabase: the databases that whole-database grants name, created when missing.

The alternating-users rotation logs in to the application secret's dbname with every user, so
that database must exist before the first rotation. A database is never dropped: it may hold
data by the time the stack goes.
"""

import logging
from collections.abc import Iterable

from user_accounts import Accounts, quote_identifier
from user_request import Grant

logger = logging.getLogger(__name__)


def create_missing_databases(accounts: Accounts, grants: Iterable[Grant]) -> None:
    grants = tuple(grants)
    # A table grant's table must exist already: refused here, before any database is created, so
    # a failed request leaves nothing behind.
    accounts.check_grant_targets([grant for grant in grants if grant.table != "*"])
    for database in sorted({grant.database for grant in grants if grant.table == "*"}):
        quoted_database = quote_identifier(database)
        found = accounts.run(
            "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
            (database,),
            doing=f"look up database {quoted_database}",
        )
        if not found:
            accounts.run(
                f"CREATE DATABASE IF NOT EXISTS {quoted_database}",
                doing=f"create database {quoted_database}",
            )
            logger.info("Created database %s (CreateDatabase)", quoted_database)
