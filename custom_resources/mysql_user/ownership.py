"""Which users this resource created, recorded in the database itself so that a retry can tell.

CloudFormation may deliver a Create twice, and Lambda runs an invocation again when the function
died (past CREATE USER, say). The second run finds the user and must answer as the first would
have: the user is this resource's and Delete drops it. A user that someone else made, even with
this secret's password, must not pass for one. Only the database outlives the function, so before
it creates `<user>` the function creates a second, inert account:

    'cfn-owner-<22 hex digits>'@'2001:db8:<24 hex digits>'   ACCOUNT LOCK, a random password

whose name is a digest of the stack ID, the logical ID and `<user>`, and whose host is a digest of
the physical ID that owns the user now. A user with a mark of that name was created by this
resource (a retry of the same request included). A replacement that reaches the same server under
another endpoint name (a new physical ID, the same user) finds the mark and, once nothing more
can fail, moves it to its own physical ID (every successful Create and Update of the resource's
own user marks it with the ID it answers with), so the old resource's cleanup Delete, finding the
mark naming someone else, leaves the user alone, while a failed replacement leaves the mark with
the ID CloudFormation keeps. Delete drops the mark with the user, and a Delete that keeps the user
(RetainOnDelete) drops the mark alone. The host is in the IPv6 documentation prefix 2001:db8::/32
(RFC 3849), never a client's address, and the account is locked: it can never log in. Marks made
before owners were recorded sit at 192.0.2.1 (TEST-NET-1, RFC 5737) and name no owner.

Why an account: MySQL 8.0.21+ (so Aurora MySQL 3) can attach a comment or JSON attributes to a
user, but MariaDB has neither; both keep accounts, and both support CREATE USER IF NOT EXISTS,
ACCOUNT LOCK and DROP USER IF EXISTS. The name fits MySQL 8's 32-character limit, the host the
60 characters of the oldest servers.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass

from cfn_one_shot.reasons import quoted
from user_accounts import Accounts

logger = logging.getLogger(__name__)

MARK_PREFIX = "cfn-owner-"
OWNER_PREFIX = "2001:db8"  # RFC 3849: documentation addresses, never a client's
UNKNOWN_OWNER_HOST = "192.0.2.1"  # marks made before the owner was recorded
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


def owner_host(physical_id: str) -> str:
    """The mark's host for the resource with this physical ID: 2001:db8: and 96 bits of digest."""
    digest = hashlib.sha256(physical_id.encode()).hexdigest()[:24]
    return ":".join([OWNER_PREFIX, *(digest[i : i + 4] for i in range(0, 24, 4))])


class Ownership:
    """The marks of one resource's users on one server."""

    def __init__(self, accounts: Accounts, resource: Resource) -> None:
        self._accounts = accounts
        self._resource = resource

    def _hosts(self, user: str) -> list[str]:
        return self._accounts.hosts(self._resource.mark_name(user))

    def created(self, user: str) -> bool:
        """True if this resource created (or is creating) `user`, under any physical ID."""
        return bool(self._hosts(user))

    def mark(self, user: str, owner: str) -> None:
        """Record, before creating `user`, or once a request that keeps it has succeeded, that the
        physical ID `owner` owns it; any other physical ID's mark goes (idempotent)."""
        name, host = self._resource.mark_name(user), owner_host(owner)
        # A random password: a server with validate_password refuses an empty one. The suffix
        # gives it the upper case letter, digit and special character such a policy asks for.
        unusable = secrets.token_urlsafe(24) + "-Aa1"
        self._accounts.run(
            "CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s ACCOUNT LOCK",
            (name, host, unusable),
            doing=f"create the ownership mark of user {quoted(user)}",
        )
        for other in self._hosts(user):
            if other != host:
                self._accounts.drop(name, other)
                logger.info("The mark of %s moved to this physical id", quoted(user))

    def owned_by(self, user: str, owner: str) -> bool:
        """False only when the mark names another physical ID of this resource (a replacement
        at another endpoint name of the same server took the user over); a missing mark, or
        one that names no owner, leaves the physical ID's word standing."""
        hosts = self._hosts(user)
        return not hosts or owner_host(owner) in hosts or UNKNOWN_OWNER_HOST in hosts

    def release(self, user: str) -> None:
        """Forget that this resource created `user` (its Delete dropped or kept it, or CREATE USER
        failed)."""
        name = self._resource.mark_name(user)
        if [host for host in self._accounts.hosts(name) if self._accounts.drop(name, host)]:
            logger.info("Dropped the ownership mark of %s", quoted(user))
