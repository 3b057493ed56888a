import logging
import unittest
from types import SimpleNamespace

from tool import run


def context(mode="regular"):
    return SimpleNamespace(
        invocation_mode=mode,
        env={},
        nonsensitive_user_variables={},
        sensitive_user_variables={},
        logger=logging.getLogger("test"),
    )


class RunTest(unittest.TestCase):
    def test_greets(self):
        self.assertEqual(run({"name": "Ada"}, context()), {"greeting": "Hello, Ada!"})

    def test_simulation_mode_says_so(self):
        self.assertIn("simulated", run({"name": "Ada"}, context("conversation-simulation"))["greeting"])


if __name__ == "__main__":
    unittest.main()
