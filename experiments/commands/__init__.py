"""Sub-commands of `linkage`: each module exposes `register(subparsers)`."""
