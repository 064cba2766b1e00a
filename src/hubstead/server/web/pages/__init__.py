"""Page families of the web hub: one module per noun, each exporting `routes` (see `web`)."""
