"""Builds and runs tools: the process runner here, the Docker runner beside it.

Both speak one protocol to :mod:`workbench.runtime.shim`, which runs inside the sandbox.
"""
