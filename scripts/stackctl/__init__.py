"""stackctl: deploy, verify and delete the toolkit's stacks (the Makefile's deploy targets).

Small modules, one concern each: `aws` (Region, account, clients), `template` and `params`
(checks before any AWS call), `lint`, `artifacts` (S3 uploads), `changeset` (review of what an
update does), `events` (progress and root causes), `policy` (the stack policy), and one module per
command (`deploy`, `verify` with `rotation_health`, `rotate_now`, `demo`, `delete`), wired
together in `cli`.
"""
