"""Full-text search over invocations (Whoosh): derived data, rebuilt whenever it is in doubt."""
