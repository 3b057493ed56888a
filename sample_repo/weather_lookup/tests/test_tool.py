import logging
import unittest
from types import SimpleNamespace

from tool import run


class WeatherTest(unittest.TestCase):
    def test_simulation_is_canned(self):
        ctx = SimpleNamespace(invocation_mode="conversation-simulation", env={}, nonsensitive_user_variables={}, sensitive_user_variables={}, logger=logging.getLogger("t"))
        self.assertEqual(run({"city": "Oslo"}, ctx)["source"], "canned")
