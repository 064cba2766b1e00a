"""Domain records and enums: the plain values the server's layers pass to each other.

One module per noun (`accounts`, `repos`, `git`, `lfs`, `locks`, `discussions`, `hub_events`,
`jobs`, `mirrors`, `upkeep`), holding data only. They import nothing from hubstead but
`hubstead.protocol` and each other, so storage, services, http, jobs and the CLI can all use
them; the Protocols that store them are in `server.storage`.
"""
