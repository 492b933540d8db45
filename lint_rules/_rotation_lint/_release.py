"""The release of the rule pack: its version and where its documentation lives.

The one place both are written: pyproject.toml reads VERSION, and every finding links to the
rule's section of docs/lint-rules.md at the tag of this release (`v<VERSION>`), so a link in a
finding shows the documentation of the rules that made it, not of a later release.
"""

VERSION = "0.2.0"
# The project's repository. No URL was declared before 0.2.0; change it here (and only here)
# if the repository moves.
REPOSITORY_URL = "https://github.com/aurora-mysql-secret-rotation/aurora-mysql-secret-rotation"
DOCS_URL = f"{REPOSITORY_URL}/blob/v{VERSION}/docs/lint-rules.md"


def doc_url(rule_id: str) -> str:
    """The absolute, versioned address of a rule's section in docs/lint-rules.md."""
    return f"{DOCS_URL}#{rule_id.lower()}"
