"""The screens of the workbench TUI."""
