"""Full-text search over invocations: the workbench's own query language compiled to an engine
(tantivy by default, Whoosh as the alternative), an index that is derived data (rebuilt whenever
it is in doubt), snippets, and the background indexer."""

from workbench.search.engine import SearchFilters
from workbench.search.fields import API_FIELDS, index_fields
from workbench.search.index import IndexStatus, IndexUnusable, Progress, SearchIndex, SearchRequest, SearchResult
from workbench.search.indexer import Indexer
from workbench.search.query import ParsedQuery, parse_query
from workbench.search.snippets import MARK_END, MARK_START, snippets, split_marks

__all__ = [
    "API_FIELDS",
    "MARK_END",
    "MARK_START",
    "IndexStatus",
    "IndexUnusable",
    "Indexer",
    "ParsedQuery",
    "Progress",
    "SearchFilters",
    "SearchIndex",
    "SearchRequest",
    "SearchResult",
    "index_fields",
    "parse_query",
    "snippets",
    "split_marks",
]
