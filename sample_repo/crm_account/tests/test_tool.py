import logging
import unittest
from types import SimpleNamespace

from tool import run


class CrmAccountTest(unittest.TestCase):
    def test_summary(self):
        ctx = SimpleNamespace(invocation_mode="regular", env={"CRM_API_TOKEN": "t", "CRM_BASE_URL": "https://crm"}, nonsensitive_user_variables={}, sensitive_user_variables={}, logger=logging.getLogger("t"))
        result = run({"account_id": "c-17", "include_orders": True}, ctx)
        self.assertEqual(result["tier"], "gold")
        self.assertEqual(len(result["orders"]), 2)
