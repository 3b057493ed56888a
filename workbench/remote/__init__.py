"""Remote mode: the CLI and the app against a Tools API server (``workbench serve``, or the hosted API)."""
