"""Course tooling for *Attention mechanisms and Transformers*: config, build, judge, CLI."""

__version__ = "0.1.0"
