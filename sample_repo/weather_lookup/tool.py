"""Calls a weather service in regular mode; in conversation-simulation mode it must not, so it
answers from canned data (the spec: simulations should avoid side effects and external calls)."""

import json
import urllib.parse
import urllib.request

CANNED = {"city": None, "temperature": 21, "conditions": "sunny", "source": "canned"}


def run(params, ctx):
    city = params["city"]
    if ctx.invocation_mode == "conversation-simulation":
        ctx.logger.info("simulation: canned weather for %s", city)
        return {**CANNED, "city": city, "units": params.get("units", "metric")}
    base = ctx.env.get("WEATHER_API_URL", "https://weather.example.invalid/v1/current")
    url = f"{base}?{urllib.parse.urlencode({'city': city})}"
    ctx.logger.info("calling %s", url)
    with urllib.request.urlopen(url, timeout=3) as response:
        return json.load(response)
