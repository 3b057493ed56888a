"""Tool Workbench: a local-first workbench for organization-scoped, versioned tools."""

__version__ = "0.1.0"
