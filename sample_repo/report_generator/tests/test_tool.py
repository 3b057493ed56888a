import logging
import unittest
from types import SimpleNamespace

from tool import run

CTX = SimpleNamespace(invocation_mode="regular", env={}, nonsensitive_user_variables={}, sensitive_user_variables={}, logger=logging.getLogger("t"))


class ReportTest(unittest.TestCase):
    def test_exact_size(self):
        for size in (1, 5001, 20001):
            self.assertEqual(len(run({"characters": size}, CTX)), size)
