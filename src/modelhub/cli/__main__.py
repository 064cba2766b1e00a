"""`python -m modelhub.cli`: the `modelhub` command without its console script."""

from modelhub.cli.main import main

main()
