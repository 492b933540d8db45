"""The table `make verify` prints: one row per check, and whether any failed."""

from __future__ import annotations

from dataclasses import dataclass, field

PASS, FAIL, WARN, SKIP = "ok", "FAIL", "warn", "skipped"


@dataclass
class Report:
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, subject: str, check: str, status: str, detail: str = "") -> None:
        self.rows.append((subject, check, status, detail))

    @property
    def failed(self) -> bool:
        return any(row[2] == FAIL for row in self.rows)

    def render(self) -> str:
        header = ("subject", "check", "result", "detail")
        rows = [header, *self.rows]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        return "\n".join(
            "  ".join([*(r[i].ljust(widths[i]) for i in range(3)), r[3]]).rstrip() for r in rows
        )
