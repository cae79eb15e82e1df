"""trm-submit: turn Tiny Recursive Model weights into an ARC Prize submission, offline."""

__version__ = "0.1.0"
