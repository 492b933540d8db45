"""Short, user-facing failure reasons: clipped, with user input quoted but never echoed in full."""

REASON_LIMIT = 256  # crhelper cuts longer reasons from the front: ours stay below it
VALUE_LIMIT = 80
TRUNCATION_MARK = "... (truncated)"


def clip(text: str, limit: int = REASON_LIMIT) -> str:
    """Keep the head of `text` (where the cause is) within `limit` characters, marking any cut."""
    if len(text) <= limit:
        return text
    return text[: limit - len(TRUNCATION_MARK)].rstrip() + TRUNCATION_MARK


def quoted(value: object) -> str:
    """A value the user supplied, quoted and short enough to sit inside a reason."""
    return clip(repr(value), VALUE_LIMIT)


class RequestRejected(Exception):
    """A failure whose message is the complete FAILED reason CloudFormation shows the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(clip(reason))
