"""Needs a secret: the CRM token. It logs the request it would send, header included, which is
exactly the kind of slip the workbench masks before anything is recorded or shown."""


def run(params, ctx):
    token = ctx.env["CRM_API_TOKEN"]
    base_url = ctx.env["CRM_BASE_URL"]
    account_id = params["account_id"]
    ctx.logger.debug("GET %s/accounts/%s authorization: Bearer %s", base_url, account_id, token)
    summary = {
        "account_id": account_id,
        "name": f"Customer {account_id.upper()}",
        "tier": "gold" if account_id.endswith("7") else "standard",
        "authenticated": bool(token),
    }
    if params.get("include_orders"):
        summary["orders"] = ["A-1001", "A-1002"]
    return summary
