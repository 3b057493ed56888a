"""The Textual workbench: browse, test, publish, invoke and search from the terminal."""
