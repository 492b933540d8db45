"""Short, user-facing failure reasons: clipped, with user input quoted but never echoed in full."""

from collections.abc import Collection, Mapping

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


# CloudFormation adds these to every custom resource's properties.
SET_BY_CLOUDFORMATION = frozenset({"ServiceToken", "ServiceTimeout"})


def unknown_properties(properties: Mapping, known: Collection[str]) -> list[str]:
    """A reason naming the properties that are neither `known` nor CloudFormation's own, with a
    hint where one differs from a known name only in case; [] when there are none."""
    unknown = sorted(
        (str(key) for key in properties if key not in known and key not in SET_BY_CLOUDFORMATION),
        key=str.lower,
    )
    if not unknown:
        return []
    hints = [
        f"(did you mean {name}?)"
        for key in unknown
        for name in sorted(known)
        if key.lower() == name.lower()
    ]
    names = ", ".join(quoted(key) for key in unknown)
    plural = "properties" if len(unknown) > 1 else "property"
    return [
        f"Unknown {plural} {names}{' ' + ' '.join(hints) if hints else ''}: allowed are "
        f"{', '.join(sorted(known))}."
    ]
