"""Custom::MySQLUser: the application user of an alternating-users secret, created in MySQL.

Lambda handler: app.handler. See docs/Custom__MySQLUser.md.
"""

import contextlib
import enum
import functools
import logging
import os
import re
from dataclasses import dataclass, replace

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError
from cfn_one_shot.one_shot_resource import OneShotResource
from cfn_one_shot.reasons import RequestRejected, quoted
from databases import create_missing_databases
from demo_schema import create_demo_schema
from mysql_session import Endpoint, connect
from ownership import Ownership, Resource
from secret_values import drop_stale_pending, read_credentials
from user_accounts import CLONE_SUFFIX, USER_HOST, Accounts, base_user
from user_request import UserRequest, is_true, user_request

logger = logging.getLogger(__name__)

DEFAULT_PORT = 3306
GENERATION = "AppSecretGeneration"
# Bounded SDK retries (throttling, 5xx, network) and short sockets; the timer is the backstop.
SECRETS_CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "total_max_attempts": 3},
    user_agent_extra="custom-mysql-user",
)
# mysql-user:<host>:<port>:<base user> for a user this resource created (Delete drops it and its
# clone); mysql-user-adopted:... for one that existed before (Delete leaves it alone).
_PHYSICAL_ID = re.compile(
    r"(?P<kind>mysql-user|mysql-user-adopted):(?P<host>[^:]+):(?P<port>\d+):(?P<user>.+)"
)

helper = OneShotResource(
    work="database work",
    loggers=(
        __name__,
        "user_request",
        "secret_values",
        "mysql_session",
        "user_accounts",
        "ownership",
        "demo_schema",
        "databases",
    ),
)


class Adoption(enum.Enum):
    """What AdoptExistingUser means for a user new to this resource (adoption())."""

    REFUSED = enum.auto()  # not "true"
    ALLOWED = enum.auto()
    LEFT_OVER = enum.auto()  # "true" since an earlier request, made for another user


@dataclass(frozen=True)
class Identity:
    endpoint: Endpoint
    user: str
    adopted: bool = False

    @property
    def physical_id(self) -> str:
        kind = "mysql-user-adopted" if self.adopted else "mysql-user"
        return f"{kind}:{self.endpoint.host}:{self.endpoint.port}:{self.user}"

    def same_user(self, other: "Identity | None") -> bool:
        return other is not None and (other.endpoint, other.user) == (self.endpoint, self.user)


def parse_physical_id(value: object) -> Identity | None:
    match = _PHYSICAL_ID.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    return Identity(
        Endpoint(match["host"], int(match["port"])),
        match["user"],
        adopted=match["kind"] == "mysql-user-adopted",
    )


def secrets_client():
    region = os.environ.get("AWS_REGION")
    try:
        return boto3.client("secretsmanager", region_name=region, config=SECRETS_CLIENT_CONFIG)
    except BotoCoreError as error:  # no Region: only outside Lambda, which always sets one
        raise RequestRejected(f"Cannot create a Secrets Manager client: {error}") from None


def endpoint_of(request: UserRequest, admin, app) -> Endpoint:
    """Host and Port properties first, then the admin secret's, then the application secret's."""
    host = request.host or admin.host or app.host
    if host is None:
        raise RequestRejected(
            "No database host: set Host (and Port) on the resource. An RDS-managed master secret "
            "holds only username and password."
        )
    return Endpoint(host, request.port or admin.port or app.port or DEFAULT_PORT)


def guarded(work):
    """Create and Update: an unexpected error (a bug) fails the request with a generic reason, its
    traceback in the log; the error's own text could quote a server message."""

    @functools.wraps(work)
    def run(event, context):
        try:
            return work(event, context)
        except RequestRejected:
            raise
        except Exception as error:
            logger.exception("Unexpected error")
            raise RequestRejected(
                f"Unexpected error in the function ({type(error).__name__}); its log group has "
                "the details. Retry the stack operation."
            ) from None

    return run


@helper.create
@guarded
def create(event, _context):
    return ensure_user(event, first_time=True)


@helper.update
@guarded
def update(event, _context):
    old = event.get("OldResourceProperties")
    new = event.get("ResourceProperties")
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return ensure_user(event, first_time=True)
    # CloudFormation generates a new password whenever the secret's GenerateSecretString
    # changes (a parameter in its SecretStringTemplate included); this property mirrors it.
    regenerated = old.get(GENERATION) != new.get(GENERATION)
    if regenerated:
        logger.info("%s changed: the application secret was generated anew", GENERATION)
    new_secret = old.get("AppSecretArn") != new.get("AppSecretArn")
    return ensure_user(
        event,
        first_time=new_secret or regenerated,
        regenerated=regenerated,
        adopt_set_before=is_true(old.get("AdoptExistingUser")),
    )


def ensure_user(
    event, *, first_time: bool, regenerated: bool = False, adopt_set_before: bool = False
) -> str:
    """Create or update the user; `first_time`: the secret's value is new to this resource (a
    new secret, or one CloudFormation generated anew), so its current password is set even on a
    user that exists (see the doc's Passwords section); `adopt_set_before`: AdoptExistingUser
    was "true" in the old properties already (see adoption())."""
    request = user_request(event.get("ResourceProperties"))
    client = secrets_client()
    if regenerated:
        drop_stale_pending(client, "application secret", request.app_secret_arn)
    admin = read_credentials(client, "admin secret", request.admin_secret_arn)
    app = read_credentials(client, "application secret", request.app_secret_arn)
    endpoint = endpoint_of(request, admin, app)
    base = base_user(app.username)
    previous = parse_physical_id(event.get("PhysicalResourceId"))
    creating = event["RequestType"] == "Create"
    connection = connect(
        endpoint, admin.username, admin.password, request.tls_ca_file, helper.deadlines
    )
    with connection:
        accounts = Accounts(connection)
        ownership = Ownership(accounts, Resource.of(event))
        identity = Identity(endpoint, base)
        if identity.same_user(previous):
            identity = previous
        else:
            first_time = True  # a new user for this resource: a replacement
            adopt = adoption(request.adopt_existing_user, adopt_set_before, previous, base)
            identity = claim(accounts, ownership, identity, adopt)
        if creating and not identity.adopted and accounts.exists(base):
            helper.PhysicalResourceId = identity.physical_id  # a retry: the user is made
        if request.demo_schema:
            create_demo_schema(accounts, request.grants[0].database)
        if request.create_database:
            create_missing_databases(accounts, request.grants)
        accounts.check_grant_targets(request.grants)
        if not accounts.exists(app.username):
            create_user(accounts, ownership, identity, app, creating=creating)
        elif first_time:
            accounts.set_password(app.username, app.password)
        if creating:  # from here a failed Create's rollback must see the user (and drop it)
            helper.PhysicalResourceId = identity.physical_id
        for user in (base, base + CLONE_SUFFIX):
            if accounts.exists(user):
                accounts.grant_exactly(user, request.grants)
        if not identity.adopted and ownership.created(base):
            # Only now, past every step that can fail: the answer's physical ID takes the mark.
            # A failed Update leaves it with the ID CloudFormation keeps, and a rollback Update
            # (which answers with the old ID) takes it back from a replacement.
            ownership.mark(base, identity.physical_id)
    helper.Data.update(Username=base, Host=endpoint.host)
    logger.info("User %s ready at %s (%s)", quoted(base), endpoint, identity.physical_id)
    return identity.physical_id


def create_user(
    accounts: Accounts, ownership: Ownership, identity: Identity, app, *, creating: bool
) -> None:
    """CREATE USER the secret's current user, this resource's mark first (unless the pair was
    adopted, or the resource marked it already: ensure_user moves a mark once nothing can fail).
    A Create answers with the user's ID from the mark on, so a timer's answer during a slow
    CREATE USER lets the rollback Delete drop what it made. When CREATE USER fails (a password
    policy, a lost connection) and neither user of the pair exists, the mark marks nothing: it
    goes too, and so does the ID, so a failed request leaves nothing."""
    if identity.adopted:
        accounts.create(app.username, app.password)
        return
    answered_id = helper.PhysicalResourceId
    if not ownership.created(identity.user):
        ownership.mark(identity.user, identity.physical_id)
    if creating:
        helper.PhysicalResourceId = identity.physical_id
    try:
        accounts.create(app.username, app.password)
    except RequestRejected:
        with contextlib.suppress(RequestRejected):  # the reason to show is CREATE USER's
            if not any(map(accounts.exists, (identity.user, identity.user + CLONE_SUFFIX))):
                ownership.release(identity.user)
                helper.PhysicalResourceId = answered_id
        raise


def adoption(wanted: bool, set_before: bool, previous: Identity | None, user: str) -> Adoption:
    """Whether a user new to this resource may be taken over. AdoptExistingUser takes over the
    user named when it is set: on Create, on the Update that sets it, and for that same user
    name at a new host or port while it stays "true". Left "true", it never takes over a user a
    later rename names: that user would be someone else's account, taken over silently."""
    if not wanted:
        return Adoption.REFUSED
    if set_before and not (previous is not None and previous.user == user):
        return Adoption.LEFT_OVER
    return Adoption.ALLOWED


def claim(
    accounts: Accounts, ownership: Ownership, identity: Identity, adopt: Adoption
) -> Identity:
    """The identity of a user new to this resource: created (Delete drops it) unless someone else
    made it, which is refused unless AdoptExistingUser allows the takeover (adoption())."""
    user = identity.user
    found = [(name, host) for name in (user, user + CLONE_SUFFIX) for host in accounts.hosts(name)]
    if not found:
        return identity
    if ownership.created(user):
        # A retry, or a replacement reaching the same server under another endpoint name: the
        # mark moves to this physical ID once the request succeeds (ensure_user), so the old
        # one's cleanup Delete leaves the user alone.
        logger.info("User %s exists and carries this resource's mark: a retry", quoted(user))
        return identity
    elsewhere = [f"'{name}'@'{host}'" for name, host in found if host != USER_HOST]
    if elsewhere:  # MySQL logs a client in to the most specific account that matches its host
        more = f" (and {len(elsewhere) - 1} more)" if len(elsewhere) > 1 else ""
        raise RequestRejected(
            f"User {quoted(user)} exists as {elsewhere[0]}{more}: logins from that host use it "
            "instead of the '%' account, so the secret fails there. This resource will not take "
            "it over: drop it if unused, or use another username."
        )
    if adopt is Adoption.ALLOWED:
        logger.info("User %s exists; AdoptExistingUser is true: taking it over", quoted(user))
        return replace(identity, adopted=True)
    if adopt is Adoption.LEFT_OVER:
        raise RequestRejected(
            f"User {quoted(user)} (or its clone) already exists and this resource did not create "
            'it. AdoptExistingUser was already "true" for an earlier user and takes over only '
            'the user named when it turns true: make it "false", then "true" with this username.'
        )
    raise RequestRejected(
        f"User {quoted(user)} (or its clone) already exists and this resource did not create "
        "it. To take it over (password reset from the secret, other privileges revoked), set "
        'AdoptExistingUser "true"; or use another username.'
    )


@helper.delete
def delete(event, _context):
    """Drops the user and its clone if this resource created them; never fails: whatever goes
    wrong, the stack's deletion goes on and the log says why nothing was dropped."""
    try:
        drop_created_user(event)
    except RequestRejected as reason:
        logger.warning("Delete answered SUCCESS; nothing more was dropped: %s", reason)
    except Exception:  # a bug must not block the stack's deletion either
        logger.exception("Delete answered SUCCESS after an unexpected error")


def drop_created_user(event) -> None:
    identity = parse_physical_id(event.get("PhysicalResourceId"))
    if identity is None:
        logger.info("Delete: no user was created under this physical id; nothing to drop")
        return
    if identity.adopted:
        logger.info("Delete: %s existed before this resource; left in place", quoted(identity.user))
        return
    request = user_request(event.get("ResourceProperties"))
    admin = read_credentials(secrets_client(), "admin secret", request.admin_secret_arn)
    connection = connect(
        identity.endpoint,
        admin.username,
        admin.password,
        request.tls_ca_file,
        helper.deadlines,
    )
    with connection:
        accounts = Accounts(connection)
        ownership = Ownership(accounts, Resource.of(event))
        if not ownership.owned_by(identity.user, identity.physical_id):
            logger.info(
                "Delete: %s now belongs to a newer physical id of this resource; left in place",
                quoted(identity.user),
            )
            return
        if request.retain_on_delete:
            ownership.release(identity.user)
            logger.info("Delete: RetainOnDelete is true; %s kept", quoted(identity.user))
            return
        dropped = [u for u in (identity.user, identity.user + CLONE_SUFFIX) if accounts.drop(u)]
        ownership.release(identity.user)
    logger.info("Delete: dropped %s", ", ".join(map(quoted, dropped)) or "nothing (already gone)")


def handler(event, context):
    helper(event, context)
