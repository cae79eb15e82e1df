"""`python -m trm_submit` entry point."""

from .cli import main

raise SystemExit(main())
