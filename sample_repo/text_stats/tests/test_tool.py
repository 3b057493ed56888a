import logging
import unittest
from types import SimpleNamespace

from tool import Params, run

CTX = SimpleNamespace(invocation_mode="regular", env={}, nonsensitive_user_variables={}, sensitive_user_variables={}, logger=logging.getLogger("t"))


class StatsTest(unittest.TestCase):
    def test_counts(self):
        result = run(Params(text="The cat sat. The cat ran!", top=1), CTX)
        self.assertEqual((result["words"], result["sentences"], result["top_words"]), (6, 2, ["cat"]))
