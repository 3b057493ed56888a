import logging
import unittest
from types import SimpleNamespace

from tool import run


def ctx():
    return SimpleNamespace(invocation_mode="regular", env={"ORDER_REGION": "eu"}, nonsensitive_user_variables={}, sensitive_user_variables={}, logger=logging.getLogger("t"))


class OrderStatusTest(unittest.TestCase):
    def test_known_order(self):
        self.assertEqual(run({"order_id": "A-1001"}, ctx())["status"], "shipped")

    def test_unknown_order(self):
        self.assertFalse(run({"order_id": "Z-9999"}, ctx())["found"])
