"""The one base class of every error the CLI reports as one line with exit code 2 (a whole input file, a flag
value, an output path, a weights file that cannot be used). Modules raise their own subclass; the CLI catches
this base, so it never has to import a module (and torch with it) just to name its error."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix, described in one line (the first line of the message is what is shown)."""
