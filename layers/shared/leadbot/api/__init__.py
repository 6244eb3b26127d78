"""Powertools Routers of the API function: the tracked catalog link now, the dashboard later."""
