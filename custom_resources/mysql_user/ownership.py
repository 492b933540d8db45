"""Which users this resource created, recorded in the database itself so that a retry can tell.

CloudFormation may deliver a Create twice, and Lambda runs an invocation again when the function
died (past CREATE USER, say). The second run finds the user and must answer as the first would
have: the user is this resource's and Delete drops it. A user that someone else made, even with
this secret's password, must not pass for one. Only the database outlives the function, so before
it creates `<user>` the function creates a second, inert account:

    'cfn-owner-<22 hex digits>'@'192.0.2.1'   ACCOUNT LOCK, a random password, no privileges

whose name is a digest of the stack ID, the logical ID and `<user>`. A user with that mark was
created by this resource (a retry of the same request included); Delete drops the mark with the
user, and a Delete that keeps the user (RetainOnDelete) drops the mark alone. The host is in
TEST-NET-1 (RFC 5737), never a client's address, and the account is locked: it can never log in.

Why an account: MySQL 8.0.21+ (so Aurora MySQL 3) can attach a comment or JSON attributes to a
user, but MariaDB has neither; both keep accounts, and both support CREATE USER IF NOT EXISTS,
ACCOUNT LOCK and DROP USER IF EXISTS. The name fits MySQL 8's 32-character limit.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass

from cfn_one_shot.reasons import quoted
from user_accounts import Accounts

logger = logging.getLogger(__name__)

MARK_PREFIX = "cfn-owner-"
MARK_HOST = "192.0.2.1"
MARK_DIGEST_LENGTH = 32 - len(MARK_PREFIX)


@dataclass(frozen=True)
class Resource:
    """The CloudFormation resource on whose behalf users are made: the same on every request."""

    stack_id: str
    logical_id: str

    @classmethod
    def of(cls, event: dict) -> "Resource":
        return cls(str(event.get("StackId", "")), str(event.get("LogicalResourceId", "")))

    def mark_name(self, user: str) -> str:
        identity = "\n".join((self.stack_id, self.logical_id, user)).encode()
        return MARK_PREFIX + hashlib.sha256(identity).hexdigest()[:MARK_DIGEST_LENGTH]


class Ownership:
    """The marks of one resource's users on one server."""

    def __init__(self, accounts: Accounts, resource: Resource) -> None:
        self._accounts = accounts
        self._resource = resource

    def created(self, user: str) -> bool:
        """True if this resource created (or is creating) `user`."""
        return self._accounts.exists(self._resource.mark_name(user), MARK_HOST)

    def mark(self, user: str) -> None:
        """Record, before creating `user`, that this resource creates it (idempotent)."""
        # A random password: a server with validate_password refuses an empty one. The suffix
        # gives it the upper case letter, digit and special character such a policy asks for.
        unusable = secrets.token_urlsafe(24) + "-Aa1"
        self._accounts.run(
            "CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s ACCOUNT LOCK",
            (self._resource.mark_name(user), MARK_HOST, unusable),
            doing=f"create the ownership mark of user {quoted(user)}",
        )

    def release(self, user: str) -> None:
        """Forget that this resource created `user` (its Delete dropped or kept it, or CREATE USER
        failed)."""
        if self._accounts.drop(self._resource.mark_name(user), MARK_HOST):
            logger.info("Dropped the ownership mark of %s", quoted(user))
