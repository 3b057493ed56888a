import logging
import unittest
from types import SimpleNamespace

from tool import UnparseableDate, run

CTX = SimpleNamespace(invocation_mode="regular", env={}, nonsensitive_user_variables={}, sensitive_user_variables={}, logger=logging.getLogger("t"))


class ParserTest(unittest.TestCase):
    def test_parses(self):
        self.assertEqual(run({"text": "2024-05-01"}, CTX)["weekday"], "Wednesday")

    def test_fails_loudly(self):
        with self.assertRaises(UnparseableDate):
            run({"text": "next tuesday"}, CTX)
