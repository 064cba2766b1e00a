"""Storage layer: all disk and database access, behind one Protocol per role.

A role's Protocol is in `<role>.py` (`accounts`, `tokens`, `repos`, `blobs`, `lfs_index`, `jobs`,
`mirrors`, `fetches`, `upstream`, `locks`, `discussions`, `hub_events`, and the git roles
`git_objects`, `git_transport`, `git_fetch`, `git_upkeep`); its implementations are
`<role>_<backend>.py`, built only in `server/app.py`. The records the stores take and return are
in `server.domain`; the errors they raise in `errors.py`.
"""
