"""``python -m runner``: the same as the ``waiaas-run`` command."""

from runner.cli import main

if __name__ == "__main__":
    main()
