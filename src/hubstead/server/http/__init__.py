"""HTTP layer: routes parse, authorize, call one service method and render. Nothing else."""
