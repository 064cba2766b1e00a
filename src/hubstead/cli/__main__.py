"""`python -m hubstead.cli`: the `hubstead` command without its console script."""

from hubstead.cli.main import main

main()
