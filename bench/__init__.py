"""`make bench`: the webhook's cold start, requests per message, latency and concurrency."""
