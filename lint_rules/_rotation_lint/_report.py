"""Turn a rule's findings into cfn-lint matches: one message per place, cause first, then fix."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from cfnlint.rules import RuleMatch

from ._model import Model, model_for
from ._release import doc_url

__all__ = ["Finding", "ModelRule", "doc_url", "finding"]


@dataclass(frozen=True)
class Finding:
    path: tuple
    cause: str
    fix: str

    @property
    def message(self) -> str:
        where = "/".join(str(step) for step in self.path)
        return f"{where}: {self.cause}. Fix: {self.fix}"


def finding(path: Iterable[Any], cause: str, fix: str) -> Finding:
    return Finding(tuple(path), cause, fix)


class ModelRule:
    """Mixin for rules that read the rotation model: `check` yields Findings.

    It derives from nothing in cfn-lint on purpose: cfn-lint instantiates every class in a rule
    file whose bases include CloudFormationLintRule, and this one is not a rule by itself.
    """

    def check(self, model: Model) -> Iterator[Finding]:
        raise NotImplementedError

    def match(self, cfn: Any) -> list[RuleMatch]:
        seen: dict[Finding, None] = {}
        for found in self.check(model_for(cfn)):
            seen.setdefault(found)
        return [RuleMatch(list(found.path), found.message) for found in seen]
