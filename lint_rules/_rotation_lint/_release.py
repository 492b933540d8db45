"""The release of the rule pack: its version, its rule ids and where its documentation lives.

The one place these are written: pyproject.toml reads VERSION, and every finding links to the
rule's section of docs/lint-rules.md at the tag of this release (`v<VERSION>`), so a link in a
finding shows the documentation of the rules that made it, not of a later release.
"""

import re

VERSION = "0.3.0"
# The project's repository. No URL was declared before 0.2.0; change it here (and only here)
# if the repository moves.
REPOSITORY_URL = "https://github.com/aurora-mysql-secret-rotation/aurora-mysql-secret-rotation"
DOCS_URL = f"{REPOSITORY_URL}/blob/v{VERSION}/docs/lint-rules.md"
# The pack's rule ids: cfn-lint's severity letter (E, W or I: it reads the first letter), R for
# rotation, three digits. cfn-lint matches --ignore-checks, --include-checks and
# --mandatory-checks as prefixes, so the letter after the severity keeps the pack apart from
# cfn-lint's own ids (a digit there), the E9xxx/W9xxx range cfn-lint leaves to users' rules, and
# the other public packs known (serverless-rules: ES, WS, IS): ignoring `ES` or `E9` leaves these
# on, and ignoring `ER` silences this pack's errors alone. Before 0.3.0 the ids were E9xxx/W9xxx.
RULE_ID = re.compile(r"[EWI]R\d{3}")


def doc_url(rule_id: str) -> str:
    """The absolute, versioned address of a rule's section in docs/lint-rules.md."""
    return f"{DOCS_URL}#{rule_id.lower()}"
