"""The tools repository (git) and the tool project contract."""
