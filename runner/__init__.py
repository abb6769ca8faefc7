"""waiaas-runner: declarative wallet automation for the WAIaaS daemon."""

__version__ = "0.1.0"
