"""Mirroring: repos copied from an upstream hub, registered by operators or pulled through.

Services layer, one module per noun, each depending only on those above it in this list:

- `upstreams.py`: `UpstreamService`, the one door to upstream (its API, file bytes and git data,
  through storage), where storage's `RemoteError`s become the domain's `UpstreamError`s.
- `mirrors.py`: `MirrorService`, mirror configurations, their sync jobs and schedules.
- `syncs.py`: `SyncService`, the steps of one sync (plan, fetch an object, publish); the
  `mirror.sync` job in `jobs/sync.py` runs them.
- `pull_through.py`: `PullThroughService`, its policy, pulling a repo this hub does not have, and
  streaming on-demand mirrors' LFS files while they are stored.

Nothing in `services/repos.py` depends on this package: `RepoService` keeps mirrors read-only by
asking the `MirrorStore` whether a repo has a mirror row, and pulls unknown repos through a
callable that `server/app.py` builds from `PullThroughService.pull` before it builds
`RepoService` (an import contract keeps it so).
"""
