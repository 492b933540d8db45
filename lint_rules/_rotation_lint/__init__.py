"""What the rules share: the template model, the value reader, the findings, the release.

Private to the pack: the rules import it relatively (`from .._rotation_lint import ...`). The one
function for tooling, `rotation_windows_overlap`, is exported by the package itself.
"""
