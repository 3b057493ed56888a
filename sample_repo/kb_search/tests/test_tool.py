import logging
import unittest
from types import SimpleNamespace

import tool


class KnowledgeBaseTest(unittest.TestCase):
    def test_finds_the_article_about_late_deliveries(self):
        tool.LATENCY_SECONDS = 0  # the checks need not wait for the backend
        ctx = SimpleNamespace(invocation_mode="conversation-simulation", env={}, nonsensitive_user_variables={}, sensitive_user_variables={}, logger=logging.getLogger("t"))
        found = tool.run({"query": "my delivery is late", "limit": 1}, ctx)
        self.assertEqual([a["id"] for a in found["articles"]], ["kb-102"])
