"""A plain lookup: the status of an order from a fixed table."""

ORDERS = {
    "A-1001": {"status": "shipped", "carrier": "DHL", "eta_days": 2},
    "A-1002": {"status": "processing", "carrier": None, "eta_days": 5},
    "B-2001": {"status": "delivered", "carrier": "UPS", "eta_days": 0},
}


def run(params, ctx):
    order_id = params["order_id"]
    region = ctx.env.get("ORDER_REGION", "unknown")
    ctx.logger.info("looking up %s in region %s", order_id, region)
    order = ORDERS.get(order_id)
    if order is None:
        return {"order_id": order_id, "found": False, "region": region}
    return {"order_id": order_id, "found": True, "region": region, **order}
