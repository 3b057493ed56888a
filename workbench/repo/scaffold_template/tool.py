"""$name: $description"""


def run(params, ctx):
    """Called once per input.

    params: the input parameters, already validated against schema.json.
    ctx: invocation_mode ("regular" or "conversation-simulation"), env (the tool's environment
         variables and secrets), nonsensitive_user_variables, sensitive_user_variables, and
         logger (every line it writes, and everything printed, becomes the invocation's logs).
    """
    name = params["name"]
    ctx.logger.info("greeting %s in %s mode", name, ctx.invocation_mode)
    if ctx.invocation_mode == "conversation-simulation":
        return {"greeting": f"Hello, {name}! (simulated)"}
    return {"greeting": f"Hello, {name}!"}
