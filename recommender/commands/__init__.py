"""Sub-commands of `python -m recommender`; each module has `register(subparsers)`."""
