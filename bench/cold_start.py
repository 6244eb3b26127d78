"""Run in a fresh process: import the webhook, handle one `/start`; print milliseconds as JSON."""

import json
import sys
import time

started = time.perf_counter()
mode, endpoint, table, chat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

if mode == "floor":
    # The least a Python Lambda touching DynamoDB does: python, boto3, one client, one GetItem.
    import boto3

    imported = time.perf_counter()
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    client.get_item(TableName=table, Key={"tenant_id": {"S": "demo"}})
else:
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "functions/webhook_telegram"))
    import app  # type: ignore[import-not-found]  # functions/webhook_telegram, as Lambda loads it

    imported = time.perf_counter()
    update = {
        "update_id": chat,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "Cold", "language_code": "en"},
            "text": "/start qr_bench",
        },
    }
    event = {
        "httpMethod": "POST",
        "path": "/telegram/demo",
        "pathParameters": {"tenant_id": "demo"},
        "headers": {"X-Telegram-Bot-Api-Secret-Token": "demo-telegram-secret"},
        "body": json.dumps(update),
        "isBase64Encoded": False,
    }

    class Context:
        function_name = "WebhookTelegramFunction"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
        aws_request_id = "cold"

        def get_remaining_time_in_millis(self) -> int:
            return 15_000

    response = app.handler(event, Context())
    assert response["statusCode"] == 200, response

done = time.perf_counter()
print(json.dumps({"import_ms": (imported - started) * 1000, "total_ms": (done - started) * 1000}))
