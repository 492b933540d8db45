"""The two ways a command ends early, each printed as one line without a traceback."""


class UsageError(Exception):
    """A mistake the user can fix before anything changes in AWS (exit status 2)."""


class OperationFailed(Exception):
    """AWS did not do what was asked, or a check failed (exit status 1)."""
